#include "guardian/supervise/supervised_command.hpp"

#include <sys/wait.h>

#include <csignal>

namespace guardian::supervise {

SupervisedCommand::SupervisedCommand(boost::asio::io_context& io, std::string name, process::LaunchSpec spec,
                                     std::unique_ptr<limits::Limiter> limiter,
                                     std::chrono::milliseconds kill_after, Callbacks callbacks)
    : io_(io),
      name_(std::move(name)),
      spec_(std::move(spec)),
      limiter_(std::move(limiter)),
      kill_after_(kill_after),
      callbacks_(std::move(callbacks)),
      grace_timer_(io) {
  spec_.enter_limits = [limiter = limiter_.get()] { return limiter->enter_from_child(); };
}

SupervisedCommand::~SupervisedCommand() {
  limiter_->cancel();
  if (process_) process_->detach();  // guardian decides how its children end, not Boost
}

std::error_code SupervisedCommand::start() {
  std::error_code error;
  auto child = process::launch(io_, spec_, error);
  if (error) return error;
  pid_ = child.id();
  limiter_->started(pid_);
  process_.emplace(std::move(child));
  process_->async_wait([this](boost::system::error_code ec, int /*evaluated: 9 for both exit 9 and SIGKILL*/) {
    // With pidfds the wait cannot fail for our own child; keep the outcome defined anyway.
    on_exit(process::ExitStatus::from_wait_status(ec ? W_EXITCODE(process::exit_code::guardian_failed, 0)
                                                     : process_->native_exit_code()));
  });
  return {};
}

void SupervisedCommand::stop(int signo, std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  if (!stopping_) {
    stopping_ = true;
    processes_signalled_ = limiter_->signal_all(signo);
  }
  if (deadline < kill_deadline_) arm_grace(grace);
}

void SupervisedCommand::arm_grace(std::chrono::milliseconds grace) {
  kill_deadline_ = std::chrono::steady_clock::now() + grace;
  grace_timer_.expires_at(kill_deadline_);
  grace_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) escalate();
  });
}

void SupervisedCommand::escalate() {
  if (escalated_ || finished_) return;
  escalated_ = true;
  grace_timer_.cancel();
  limiter_->kill_all([this](std::size_t) {
    tree_empty_ = true;
    maybe_finished();
  });
}

void SupervisedCommand::relay(int signo) const {
  if (pid_ > 0 && !exit_status_) ::kill(-pid_, signo);
}

void SupervisedCommand::on_exit(const process::ExitStatus& status) {
  exit_status_ = status;
  if (callbacks_.exited) callbacks_.exited(status);
  // Whatever the command left behind (daemons, setsid escapees, processes that left its
  // cgroup) ends with it. signal_all looks afresh, where a sample may count only the cgroup.
  if (!stopping_) {
    if (auto left = limiter_->signal_all(SIGTERM); left > 0) {
      leftovers_signalled_ = left;
      stopping_ = true;
      arm_grace(kill_after_);
    }
  }
  limiter_->async_wait_empty([this] {
    tree_empty_ = true;
    maybe_finished();
  });
}

void SupervisedCommand::maybe_finished() {
  if (finished_ || !exit_status_ || !tree_empty_) return;
  finished_ = true;
  grace_timer_.cancel();
  limiter_->release();
  if (callbacks_.finished) callbacks_.finished();
}

}  // namespace guardian::supervise
