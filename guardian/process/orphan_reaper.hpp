#pragma once
// Makes guardian a child subreaper and reaps the processes it adopts that way (escaped
// daemons whose parents died), so they never linger as zombies. Children that another
// part of guardian waits for itself (the commands, the sentinel) are left alone.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <set>
#include <vector>

#include "guardian/process/proc_tree.hpp"

namespace guardian::process {

class OrphanReaper {
 public:
  explicit OrphanReaper(boost::asio::io_context& io, ProcFs proc = ProcFs{});

  /// PR_SET_CHILD_SUBREAPER and start listening for SIGCHLD.
  std::error_code start();
  void stop();

  void own(pid_t pid) { owned_.insert(pid); }
  void disown(pid_t pid) { owned_.erase(pid); }
  /// Children this says are waited for elsewhere (the plugin host, whose pid changes).
  void own_when(std::function<bool(pid_t)> owned) { owned_when_.push_back(std::move(owned)); }

  /// Reaps every adopted child that has exited; returns how many.
  std::size_t reap_now();
  std::size_t reaped_total() const { return reaped_total_; }

 private:
  void arm();

  boost::asio::signal_set sigchld_;
  ProcFs proc_;
  std::set<pid_t> owned_;
  std::vector<std::function<bool(pid_t)>> owned_when_;
  std::size_t reaped_total_ = 0;
  bool running_ = false;
};

}  // namespace guardian::process
