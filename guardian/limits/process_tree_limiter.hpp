#pragma once
// Backend "none": no ceilings, but the tree is still guardian's — found through /proc as
// guardian's descendants (it is their subreaper) plus marked escapees, and ended with
// pidfd-based signals and waits. The watchdog backend builds on the same tree control.
#include <boost/asio/any_io_executor.hpp>
#include <string>

#include "guardian/limits/limiter.hpp"
#include "guardian/process/tree_membership.hpp"
#include "guardian/process/tree_terminator.hpp"

namespace guardian::limits {

class ProcessTreeLimiter : public Limiter {
 public:
  ProcessTreeLimiter(boost::asio::any_io_executor executor, process::TreeMembership membership,
                     std::string reason);

  Backend backend() const override { return Backend::none; }
  std::string summary() const override;
  nlohmann::json report() const override;
  void started(pid_t root_pid) override;
  std::size_t signal_all(int signo) override;
  void async_wait_empty(std::function<void()> done) override;
  void kill_all(std::function<void(std::size_t)> done) override;
  void cancel() override { terminator_.cancel(); }
  TreeUsage sample() override;

  process::TreeMembership* membership() override { return &membership_; }

 protected:
  /// The tree's totals from one walk (CPU: the live processes' sum).
  static TreeUsage usage_of(const std::vector<process::ProcStat>& stats);

  process::TreeMembership membership_;
  process::TreeTerminator terminator_;
  std::string reason_;  // why this backend (e.g. "--no-limits")
};

}  // namespace guardian::limits
