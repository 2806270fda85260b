#include "guardian/report/event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>
#include <fmt/format.h>

#include "guardian/report/clock.hpp"

namespace guardian::report {

std::string_view to_string(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "info";
}

EventLog::EventLog(const std::filesystem::path& file, mode_t mode) : path_(file) {
  fd_.reset(::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode));
  if (!fd_)
    throw std::system_error(errno, std::system_category(), fmt::format("opening the event log '{}'", file.string()));
}

void EventLog::write(Level level, std::string_view component, std::string_view event,
                     std::string_view message, nlohmann::json context) {
  nlohmann::json line = {{"ts", iso8601(std::chrono::system_clock::now())},
                         {"level", to_string(level)},
                         {"component", component},
                         {"event", event},
                         {"message", message},
                         {"context", std::move(context)}};
  std::function<void(const nlohmann::json&)> observer;
  {
    std::lock_guard lock(mutex_);
    if (fd_) {
      std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      [[maybe_unused]] auto written = ::write(fd_.get(), text.data(), text.size());
    }
    observer = observer_;
  }
  // Outside the lock: an observer may log in turn.
  if (observer) observer(line);
}

}  // namespace guardian::report
