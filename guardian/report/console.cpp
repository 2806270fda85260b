#include "guardian/report/console.hpp"

#include <unistd.h>

#include <string>

namespace guardian::report {
namespace {

void emit(std::string_view line) {
  std::string text = "guardian: ";
  text.append(line);
  text.push_back('\n');
  // One write: lines from guardian never interleave mid-line with the command's output.
  [[maybe_unused]] auto written = ::write(STDERR_FILENO, text.data(), text.size());
}

}  // namespace

void Console::info(std::string_view line) const {
  if (!quiet_) emit(line);
}

void Console::error(std::string_view line) const { emit(line); }

}  // namespace guardian::report
