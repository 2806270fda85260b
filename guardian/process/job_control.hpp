#pragma once
// Job control across guardian: when the command in the terminal's foreground is stopped
// (Ctrl-Z), guardian takes the terminal back and stops itself, so the shell regains
// control exactly as if the command ran directly; on `fg` guardian gives the terminal
// back and continues the command's group.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>

#include "guardian/process/terminal.hpp"

namespace guardian::process {

class JobControl {
 public:
  JobControl(boost::asio::io_context& io, ForegroundTerminal terminal);

  /// Follows `pgid` (the command's group, whose leader is `pid`).
  void follow(pid_t pid);
  void stop();
  /// Called after guardian stopped itself and was continued (for the event log).
  void on_resumed(std::function<void(int stop_signal)> callback) { resumed_ = std::move(callback); }

 private:
  void arm();
  void check_stopped();

  boost::asio::signal_set sigchld_;
  ForegroundTerminal terminal_;
  pid_t pid_ = -1;
  bool running_ = false;
  std::function<void(int)> resumed_;
};

}  // namespace guardian::process
