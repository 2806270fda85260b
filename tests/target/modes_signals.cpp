// Modes that react to signals: ignore SIGTERM, stop themselves, or report which
// relayed signal arrived.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "modes.hpp"
#include "target_support.hpp"

namespace guardian::target {

int mode_ignore_term(Args args) {
  expect_arg_count("ignore-term", args, 1, 64);
  const timespec deadline = deadline_after(parse_seconds(args[0], "SECONDS"));
  std::signal(SIGTERM, SIG_IGN);
  // Extra signals to ignore, e.g. "INT" to prove a second Ctrl-C escalates.
  for (const char* extra : args.subspan(1)) std::signal(parse_signal(extra), SIG_IGN);
  say("ready");
  sleep_until(deadline);
  return 0;
}

int mode_stop_self(Args args) {
  expect_arg_count("stop-self", args, 0, 1);
  const double seconds = args.empty() ? 3600.0 : parse_seconds(args[0], "SECONDS");
  say("ready");
  raise(SIGSTOP);
  sleep_until(deadline_after(seconds));
  return 0;
}

int mode_wait_signal(Args args) {
  expect_arg_count("wait-signal", args, 1, 1);
  const timespec deadline = deadline_after(parse_seconds(args[0], "SECONDS"));
  // Blocking the signals and collecting them with sigtimedwait is the async-signal-safe
  // equivalent of installing handlers: the signal is consumed, never acted on by default.
  sigset_t watched;
  sigemptyset(&watched);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
    sigaddset(&watched, signal_number);
  sigprocmask(SIG_BLOCK, &watched, nullptr);
  say("ready");
  for (;;) {
    const int left_ms = milliseconds_left(deadline);
    if (left_ms == 0) return 3;
    const timespec timeout{left_ms / 1000, (left_ms % 1000) * 1'000'000L};
    const int signal_number = sigtimedwait(&watched, nullptr, &timeout);
    if (signal_number > 0) {
      say("got " + signal_name(signal_number));
      return 100 + signal_number;
    }
    if (errno != EAGAIN && errno != EINTR) return 3;
  }
}

}  // namespace guardian::target
