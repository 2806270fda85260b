#pragma once
// The last lines a server wrote on stdout and stderr, kept for messages ("its last
// output was …") and the report, with a bound on memory whatever the server prints.
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::health {

class OutputRing {
 public:
  explicit OutputRing(std::size_t max_lines = 200, std::size_t max_line_bytes = 2048);

  /// Adds one line (without its newline); longer lines are cut.
  void add(std::string_view line);
  /// The last `count` lines, oldest first.
  std::vector<std::string> last(std::size_t count) const;
  std::size_t size() const { return lines_.size(); }
  std::size_t total_lines() const { return total_; }

 private:
  std::size_t max_lines_;
  std::size_t max_line_bytes_;
  std::deque<std::string> lines_;
  std::size_t total_ = 0;
};

/// Splits a byte stream into lines: feed chunks, get complete lines back.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes = 8192) : max_line_bytes_(max_line_bytes) {}
  /// Complete lines found in `chunk` (a line longer than the limit is cut into pieces).
  std::vector<std::string> feed(std::string_view chunk);
  /// What is left without a newline (at end of stream); clears it.
  std::string flush();

 private:
  std::size_t max_line_bytes_;
  std::string pending_;
};

}  // namespace guardian::health
