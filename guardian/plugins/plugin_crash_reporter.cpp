#include "guardian/plugins/plugin_crash_reporter.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace guardian::plugins::crash_reporter {
namespace {

int channel = -1;
// The whole line, made when the call starts: the handler only writes it (async-signal-safe).
// The leading newline ends any line another thread was halfway through writing.
constexpr std::size_t kLineMax = 160;
thread_local char line[kLineMax];
thread_local std::size_t line_length = 0;

constexpr int kFatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

void on_fatal_signal(int signo) {
  if (channel >= 0 && line_length > 0) {
    const int saved = errno;
    (void)!::write(channel, line, line_length);
    errno = saved;
  }
  // SA_RESETHAND made the action the default again: re-raised, the signal ends the host once
  // this handler returns (a fault re-executes its instruction and faults again).
  ::raise(signo);
}

}  // namespace

void install(int channel_fd) {
  channel = channel_fd;
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  for (int signo : kFatal) ::sigaction(signo, &action, nullptr);
}

void enter_call(const std::string& plugin) {
  static constexpr char kPrefix[] = "\ncrashed_in ";
  const std::size_t prefix = sizeof kPrefix - 1;
  const std::size_t name = std::min(plugin.size(), kLineMax - prefix - 1);
  std::memcpy(line, kPrefix, prefix);
  std::memcpy(line + prefix, plugin.data(), name);
  line[prefix + name] = '\n';
  line_length = prefix + name + 1;
}

void leave_call() { line_length = 0; }

}  // namespace guardian::plugins::crash_reporter
