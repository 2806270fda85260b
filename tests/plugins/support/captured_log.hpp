// CapturedLog: collects PluginRunner log lines (thread-safe) so tests can assert on them.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "guardian/plugins/plugin_runner.hpp"

namespace guardian::testing {

class CapturedLog {
 public:
  guardian::plugins::HostServices::LogSink sink() {
    return [this](const std::string& plugin, int level, const std::string& message) {
      std::lock_guard lock(mutex_);
      lines_.push_back(plugin + ": " + std::to_string(level) + ": " + message);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // How many lines contain text.
  std::size_t count(const std::string& text) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& line : lines_) n += line.find(text) != std::string::npos ? 1 : 0;
    return n;
  }
  std::string joined() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& line : lines_) out += line + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Host options that look only in the given directories (no env, build or install dirs).
inline guardian::plugins::PluginRunnerOptions isolated_options(std::vector<std::filesystem::path> dirs,
                                                             CapturedLog& log) {
  guardian::plugins::PluginRunnerOptions options;
  options.search.config_paths = std::move(dirs);
  options.search.use_env_path = false;
  options.search.use_build_dir = false;
  options.search.use_install_dir = false;
  options.log = log.sink();
  return options;
}

}  // namespace guardian::testing
