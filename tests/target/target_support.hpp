// Small helpers shared by the guardian-target modes: unbuffered line output,
// strict argument parsing and deadline-bounded sleeping.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace guardian::target {

// Writes one line to stdout with write(2) (no stdio buffer, so a line is visible to
// the test the moment it is written and is never duplicated into forked children).
void say(std::string_view line);
// Same on stderr.
void complain(std::string_view line);

// Exits with status 2 after printing "guardian-target: <message>" and a usage hint.
[[noreturn]] void usage_error(std::string_view message);

// Parses a whole decimal integer; usage_error() on anything else.
long parse_long(std::string_view text, std::string_view what);
// Parses a non-negative number of seconds (fractions allowed: "0.3").
double parse_seconds(std::string_view text, std::string_view what);
// Parses a signal given as a number ("15") or a name with or without "SIG" ("TERM", "SIGTERM").
int parse_signal(std::string_view text);
// "SIGTERM" for 15, "SIG42" for signals without an abbreviation.
std::string signal_name(int signal_number);

// Absolute CLOCK_MONOTONIC time `seconds` from now.
timespec deadline_after(double seconds);
// Sleeps until the deadline, resuming after signal handlers interrupt the sleep.
void sleep_until(const timespec& deadline);
bool deadline_passed(const timespec& deadline);
// Milliseconds left until the deadline (0 when passed), capped to fit an int.
int milliseconds_left(const timespec& deadline);

}  // namespace guardian::target
