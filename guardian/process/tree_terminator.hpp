#pragma once
// Signals, kills and waits for a whole process tree without polling: every member is
// held by a pidfd (no pid-reuse mistakes) and waited on through the event loop; when
// all have exited the tree is listed again, so children forked meanwhile are caught.
#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <vector>

namespace guardian::process {

class TreeTerminator {
 public:
  using Lister = std::function<std::vector<pid_t>()>;

  TreeTerminator(boost::asio::any_io_executor executor, Lister members);
  ~TreeTerminator();

  /// Sends `signo` to every member (then SIGCONT, so stopped ones act on it). Returns how many
  /// members there were. The members are listed and held by pidfds before `first` runs (e.g. a
  /// process-group signal), so the count does not depend on how fast they die.
  std::size_t signal_all(int signo, const std::function<void()>& first = {});
  /// Calls `done` once no member is left.
  void async_wait_empty(std::function<void()> done);
  /// SIGKILLs every member, again for any that appear, and calls `done` when none is left.
  void kill_all(std::function<void(std::size_t killed)> done);
  /// Abandons a pending wait (its callback is not called).
  void cancel();

 private:
  struct Round;
  void next_round(bool kill, std::shared_ptr<std::function<void()>> done);

  boost::asio::any_io_executor executor_;
  Lister members_;
  std::shared_ptr<Round> round_;
  std::size_t killed_ = 0;
  unsigned generation_ = 0;
};

}  // namespace guardian::process
