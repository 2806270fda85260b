#pragma once
// A server's stdout and stderr: read through pipes on the event loop, kept in its
// OutputRing, and forwarded line by line to guardian's own stdout / stderr with a
// "[name] " prefix.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "guardian/health/output_ring.hpp"
#include "guardian/process/launch.hpp"

namespace guardian::servers {

class ServerOutput {
 public:
  ServerOutput(boost::asio::io_context& io, std::string name, bool forward = true);
  ~ServerOutput();
  ServerOutput(const ServerOutput&) = delete;
  ServerOutput& operator=(const ServerOutput&) = delete;

  /// Makes fresh pipes for one launch and points the spec's stdout/stderr at them (stdin
  /// at /dev/null). Call launched() or abandon() after the launch.
  std::error_code prepare(process::LaunchSpec& spec);
  /// The child has its copies: close ours and start reading.
  void launched();
  /// The launch failed: drop the pipes.
  void abandon();

  /// Called with every line the server prints, on the loop (set before the first launch).
  void on_line(std::function<void(const std::string&)> listener) { *listener_ = std::move(listener); }

  std::vector<std::string> last_lines(std::size_t count) const { return ring_->last(count); }
  std::size_t total_lines() const { return ring_->total_lines(); }

 private:
  struct Stream;
  boost::asio::io_context& io_;
  std::string name_;
  bool forward_;
  std::shared_ptr<health::OutputRing> ring_;
  // Shared with the streams, which may outlive this object: emptied when it goes.
  std::shared_ptr<std::function<void(const std::string&)>> listener_ =
      std::make_shared<std::function<void(const std::string&)>>();
  std::vector<std::shared_ptr<Stream>> streams_;  // being read (an old launch's may still be open)
  std::vector<int> child_ends_;                   // write ends (and /dev/null) until launched()
};

}  // namespace guardian::servers
