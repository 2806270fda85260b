#include "guardian/process/tree_terminator.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <csignal>

#include "guardian/process/pidfd.hpp"

namespace guardian::process {

struct TreeTerminator::Round {
  std::vector<std::unique_ptr<boost::asio::posix::stream_descriptor>> waits;
  std::size_t pending = 0;
};

TreeTerminator::TreeTerminator(boost::asio::any_io_executor executor, Lister members)
    : executor_(std::move(executor)), members_(std::move(members)) {}

TreeTerminator::~TreeTerminator() { cancel(); }

std::size_t TreeTerminator::signal_all(int signo, const std::function<void()>& first) {
  std::vector<UniqueFd> pidfds;
  for (pid_t pid : members_()) {
    std::error_code error;
    if (auto pidfd = open_pidfd(pid, error)) pidfds.push_back(std::move(pidfd));
  }
  if (first && !pidfds.empty()) first();  // nobody left: a group signal could only hit a reused pid
  for (const auto& pidfd : pidfds) {
    // ESRCH: it already ended (the group signal reached it): it was still a member.
    send_signal(pidfd, signo);
    if (signo != SIGKILL && signo != SIGCONT) send_signal(pidfd, SIGCONT);
  }
  return pidfds.size();
}

void TreeTerminator::async_wait_empty(std::function<void()> done) {
  cancel();  // one wait at a time: a kill_all supersedes a plain wait and vice versa
  next_round(false, std::make_shared<std::function<void()>>(std::move(done)));
}

void TreeTerminator::kill_all(std::function<void(std::size_t)> done) {
  cancel();
  killed_ = 0;
  auto finish = std::make_shared<std::function<void()>>([this, done = std::move(done)] { done(killed_); });
  next_round(true, finish);
}

void TreeTerminator::cancel() {
  ++generation_;
  if (round_)
    for (auto& wait : round_->waits) wait->close();
  round_.reset();
}

void TreeTerminator::next_round(bool kill, std::shared_ptr<std::function<void()>> done) {
  auto round = std::make_shared<Round>();
  round_ = round;
  unsigned generation = generation_;
  for (pid_t pid : members_()) {
    std::error_code error;
    auto pidfd = open_pidfd(pid, error);
    if (!pidfd) continue;  // already gone
    if (kill && !send_signal(pidfd, SIGKILL)) ++killed_;
    auto wait = std::make_unique<boost::asio::posix::stream_descriptor>(executor_, pidfd.release());
    ++round->pending;
    wait->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this, round, generation, kill, done](const boost::system::error_code&) {
                       if (generation != generation_) return;
                       if (--round->pending == 0) next_round(kill, done);
                     });
    round->waits.push_back(std::move(wait));
  }
  if (round->pending == 0) {
    round_.reset();
    boost::asio::post(executor_, [this, generation, done] {
      if (generation == generation_) (*done)();
    });
  }
}

}  // namespace guardian::process
