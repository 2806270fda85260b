#include "guardian/limits/process_tree_limiter.hpp"

#include <unistd.h>

#include <csignal>
#include <fmt/format.h>

namespace guardian::limits {

std::string_view to_string(Backend backend) {
  switch (backend) {
    case Backend::cgroup_v2: return "cgroup_v2";
    case Backend::watchdog: return "watchdog";
    case Backend::none: return "none";
  }
  return "unknown";
}

ProcessTreeLimiter::ProcessTreeLimiter(boost::asio::any_io_executor executor,
                                       process::TreeMembership membership, std::string reason)
    : membership_(std::move(membership)),
      terminator_(std::move(executor), [this] { return membership_.live_members(); }),
      reason_(std::move(reason)) {}

std::string ProcessTreeLimiter::summary() const {
  return fmt::format("limits: none ({}); the process tree is still killed at the end", reason_);
}

nlohmann::json ProcessTreeLimiter::report() const {
  return {{"backend", to_string(backend())}, {"reason", reason_}};
}

void ProcessTreeLimiter::started(pid_t root_pid) { membership_.set_root(root_pid); }

std::size_t ProcessTreeLimiter::signal_all(int signo) {
  // The group first, in one call, so a well-behaved command sees the signal everywhere at
  // once; then every member individually, for escapees in other groups and sessions.
  const pid_t root = membership_.root();
  return terminator_.signal_all(signo, [root, signo] {
    if (root <= 0) return;
    ::kill(-root, signo);
    if (signo != SIGKILL && signo != SIGCONT) ::kill(-root, SIGCONT);
  });
}

void ProcessTreeLimiter::async_wait_empty(std::function<void()> done) {
  terminator_.async_wait_empty(std::move(done));
}

void ProcessTreeLimiter::kill_all(std::function<void(std::size_t)> done) {
  terminator_.kill_all(std::move(done));
}

TreeUsage ProcessTreeLimiter::sample() { return usage_of(membership_.live_member_stats()); }

TreeUsage ProcessTreeLimiter::usage_of(const std::vector<process::ProcStat>& stats) {
  static const long page_bytes = ::sysconf(_SC_PAGESIZE);
  TreeUsage usage;
  for (const auto& st : stats) {
    usage.processes += 1;
    usage.threads += static_cast<std::uint64_t>(st.threads);
    usage.memory_bytes += st.rss_pages * static_cast<std::uint64_t>(page_bytes);
    usage.cpu_usec += process::cpu_usec(st);
  }
  return usage;
}

}  // namespace guardian::limits
