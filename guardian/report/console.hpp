#pragma once
// guardian's own lines on stderr ("guardian: …"); --quiet keeps only errors.
#include <string_view>

namespace guardian::report {

class Console {
 public:
  explicit Console(bool quiet = false) : quiet_(quiet) {}
  void info(std::string_view line) const;
  void error(std::string_view line) const;
  bool quiet() const { return quiet_; }

 private:
  bool quiet_;
};

}  // namespace guardian::report
