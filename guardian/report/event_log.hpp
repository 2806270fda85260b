#pragma once
// The run's structured event log: JSON Lines (ts, level, component, event, message,
// context), one write(2) per line on an O_APPEND file, so a crash never tears a line.
// Thread-safe: plugins log from their own threads.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "guardian/process/unique_fd.hpp"

namespace guardian::report {

enum class Level { debug, info, warning, error };
std::string_view to_string(Level level);

class EventLog {
 public:
  EventLog() = default;  // discards everything (before the run directory exists)
  /// Creates `file` with `mode` (a run directory's file_mode: private unless widened).
  explicit EventLog(const std::filesystem::path& file, mode_t mode = 0600);

  void write(Level level, std::string_view component, std::string_view event, std::string_view message,
             nlohmann::json context = nlohmann::json::object());
  void info(std::string_view component, std::string_view event, std::string_view message,
            nlohmann::json context = nlohmann::json::object()) {
    write(Level::info, component, event, message, std::move(context));
  }
  void warning(std::string_view component, std::string_view event, std::string_view message,
               nlohmann::json context = nlohmann::json::object()) {
    write(Level::warning, component, event, message, std::move(context));
  }

  /// Every line written also goes to this observer (e.g. to forward events to plugins).
  void set_observer(std::function<void(const nlohmann::json&)> observer) {
    std::lock_guard lock(mutex_);
    observer_ = std::move(observer);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  process::UniqueFd fd_;
  std::function<void(const nlohmann::json&)> observer_;
  std::mutex mutex_;
};

}  // namespace guardian::report
