#pragma once
// FileWatch: inotify on the event loop — calls a handler when a watched file is modified.
// cgroup v2 signals changes of cgroup.events ("populated 0") and memory.events (oom_kill)
// this way, so guardian learns of them at once without polling.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "guardian/limits/result.hpp"

namespace guardian::limits {

class FileWatch {
 public:
  explicit FileWatch(boost::asio::any_io_executor executor);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  /// Calls `on_modify` on the event loop each time `path` is modified.
  Status add(const std::string& path, std::function<void()> on_modify);
  /// Stops watching; no handler runs afterwards.
  void cancel();

 private:
  void arm();

  boost::asio::posix::stream_descriptor stream_;
  std::map<int, std::function<void()>> handlers_;  // by watch descriptor
  std::array<char, 4096> buffer_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool armed_ = false;
};

}  // namespace guardian::limits
