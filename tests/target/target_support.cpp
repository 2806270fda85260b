#include "target_support.hpp"

#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string.h>  // sigabbrev_np (GNU)
#include <unistd.h>

namespace guardian::target {
namespace {

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stdout closed: nothing useful left to do with the line
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void say(std::string_view line) {
  std::string buffer(line);
  buffer += '\n';
  write_all(STDOUT_FILENO, buffer);
}

void complain(std::string_view line) {
  std::string buffer(line);
  buffer += '\n';
  write_all(STDERR_FILENO, buffer);
}

void usage_error(std::string_view message) {
  complain("guardian-target: " + std::string(message) +
           " (run 'guardian-target help' for the list of modes)");
  std::exit(2);
}

long parse_long(std::string_view text, std::string_view what) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    usage_error(std::string(what) + " must be an integer, got '" + std::string(text) + "'");
  return value;
}

double parse_seconds(std::string_view text, std::string_view what) {
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || errno != 0 || *end != '\0' || !(value >= 0.0) || value > 1e7)
    usage_error(std::string(what) + " must be a number of seconds >= 0, got '" + copy + "'");
  return value;
}

int parse_signal(std::string_view text) {
  if (!text.empty() && text.front() >= '0' && text.front() <= '9') {
    const long number = parse_long(text, "signal");
    if (number < 1 || number > SIGRTMAX) usage_error("no such signal: " + std::string(text));
    return static_cast<int>(number);
  }
  std::string_view name = text;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (int number = 1; number < NSIG; ++number) {
    const char* abbrev = sigabbrev_np(number);
    if (abbrev != nullptr && name == abbrev) return number;
  }
  usage_error("no such signal: " + std::string(text));
}

std::string signal_name(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  return "SIG" + (abbrev != nullptr ? std::string(abbrev) : std::to_string(signal_number));
}

timespec deadline_after(double seconds) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto whole = static_cast<time_t>(seconds);
  long nanos = now.tv_nsec + static_cast<long>((seconds - static_cast<double>(whole)) * 1e9);
  timespec deadline{now.tv_sec + whole, nanos};
  if (deadline.tv_nsec >= 1'000'000'000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1'000'000'000L;
  }
  return deadline;
}

void sleep_until(const timespec& deadline) {
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

bool deadline_passed(const timespec& deadline) { return milliseconds_left(deadline) == 0; }

int milliseconds_left(const timespec& deadline) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long left_ms = (static_cast<long long>(deadline.tv_sec) - now.tv_sec) * 1000 +
                            (deadline.tv_nsec - now.tv_nsec) / 1'000'000;
  if (left_ms <= 0) {
    // Sub-millisecond remainder still counts as time left, so round it up to 1.
    const bool exactly_over = deadline.tv_sec < now.tv_sec ||
                              (deadline.tv_sec == now.tv_sec && deadline.tv_nsec <= now.tv_nsec);
    return exactly_over ? 0 : 1;
  }
  return left_ms > INT_MAX ? INT_MAX : static_cast<int>(left_ms);
}

}  // namespace guardian::target
