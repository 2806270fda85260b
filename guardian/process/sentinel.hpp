#pragma once
// A tiny process started with the run that outlives guardian for one purpose: if guardian
// dies without a goodbye (SIGKILL, a crash), it kills everything guardian supervised —
// the process groups it was told about, the cgroups (cgroup.kill), and every process that
// carries the run's environment marker (escapees) — then undoes what guardian changed in the
// cgroup hierarchy. PR_SET_PDEATHSIG alone would only take the direct child.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "guardian/process/sentinel_duty.hpp"
#include "guardian/process/unique_fd.hpp"

namespace guardian::process {

class Sentinel {
 public:
  /// Starts the sentinel: `program` (guardian-sentinel, see config::sentinel_executable())
  /// when given and startable, else a fork of guardian — so call it before any thread is
  /// started (a fork runs on with only the forking thread).
  static Sentinel start(const std::string& marker_entry, const std::string& program);

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
  /// After the kills, these steps run in order (each once; a failed step does not stop the rest).
  void undo_on_death(const std::vector<UndoStep>& steps);
  /// Normal end: the sentinel exits quietly (on its own time: not waited for).
  void dismiss();
  pid_t pid() const { return pid_; }

 private:
  void send(const std::string& line);
  pid_t pid_ = -1;
  UniqueFd pipe_;
};

}  // namespace guardian::process
