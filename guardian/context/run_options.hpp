#pragma once
// What `guardian run` was asked to do, resolved from the configuration.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "guardian/config/config.hpp"

namespace guardian::context {

struct RunOptions {
  std::vector<std::string> command;
  std::string mode = "dev";
  std::optional<std::chrono::milliseconds> timeout;
  std::chrono::milliseconds kill_after{10000};
  std::filesystem::path runs_dir = ".guardian/runs";
  std::optional<std::filesystem::path> report_copy;
  bool shared_run_files = false;  // run.shared_files: 0755/0644 instead of 0700/0600
  bool quiet = false;
  std::filesystem::path working_dir = std::filesystem::current_path();

  static RunOptions from_config(const config::Config& config, std::vector<std::string> command);
};

}  // namespace guardian::context
