#pragma once
// The repeatable `--server NAME='COMMAND'` and `--health NAME=URL` flags of `guardian run`,
// mapped onto the servers.NAME.command / servers.NAME.health settings.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "guardian/config/config.hpp"

namespace guardian::cli {

class ServerFlags {
 public:
  void add_to(CLI::App& command);
  /// Sets the servers.* entries (flag layer); throws config::ConfigError on a malformed value.
  void apply_to(config::Config& config) const;

 private:
  std::vector<std::string> servers_;
  std::vector<std::string> healths_;
};

}  // namespace guardian::cli
