#include "guardian/process/orphan_reaper.hpp"

#include <algorithm>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace guardian::process {

OrphanReaper::OrphanReaper(boost::asio::io_context& io, ProcFs proc)
    : sigchld_(io, SIGCHLD), proc_(std::move(proc)) {}

std::error_code OrphanReaper::start() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return {errno, std::system_category()};
  running_ = true;
  arm();
  return {};
}

void OrphanReaper::stop() {
  running_ = false;
  boost::system::error_code ignored;
  sigchld_.cancel(ignored);
}

void OrphanReaper::arm() {
  sigchld_.async_wait([this](const boost::system::error_code& error, int) {
    if (error || !running_) return;
    reap_now();
    arm();
  });
}

std::size_t OrphanReaper::reap_now() {
  std::size_t reaped = 0;
  for (pid_t child : proc_.children(::getpid())) {
    if (owned_.count(child)) continue;
    if (std::any_of(owned_when_.begin(), owned_when_.end(), [child](const auto& owned) { return owned(child); }))
      continue;
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) ++reaped;
  }
  reaped_total_ += reaped;
  return reaped;
}

}  // namespace guardian::process
