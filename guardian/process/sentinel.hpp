#pragma once
// A tiny process forked at start-up that outlives guardian for one purpose: if guardian
// dies without a goodbye (SIGKILL, a crash), it kills everything guardian supervised —
// the process groups it was told about, the cgroups (cgroup.kill), and every process that
// carries the run's environment marker (escapees). PR_SET_PDEATHSIG alone would only
// take the direct child.
#include <sys/types.h>

#include <string>
#include <utility>

#include "guardian/process/unique_fd.hpp"

namespace guardian::process {

class Sentinel {
 public:
  /// Forks the sentinel. Call before any thread is started (it runs forked code only).
  static Sentinel start(const std::string& marker_entry);

  Sentinel() = default;
  Sentinel(Sentinel&& other) noexcept : pid_(std::exchange(other.pid_, -1)), pipe_(std::move(other.pipe_)) {}
  Sentinel& operator=(Sentinel&& other) noexcept {
    if (this != &other) {
      dismiss();
      pid_ = std::exchange(other.pid_, -1);
      pipe_ = std::move(other.pipe_);
    }
    return *this;
  }
  Sentinel(const Sentinel&) = delete;
  Sentinel& operator=(const Sentinel&) = delete;
  ~Sentinel();

  void watch_group(pid_t pgid);
  void watch_cgroup_kill_file(const std::string& path);
  /// Normal end: the sentinel exits quietly (on its own time: not waited for).
  void dismiss();
  pid_t pid() const { return pid_; }

 private:
  void send(const std::string& line);
  pid_t pid_ = -1;
  UniqueFd pipe_;
};

}  // namespace guardian::process
