#include "guardian/cli/server_flags.hpp"

#include <fmt/format.h>

namespace guardian::cli {
namespace {

std::pair<std::string, std::string> split_named(const std::string& value, const std::string& flag,
                                                const std::string& example) {
  auto eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
    throw config::ConfigError(fmt::format("--{} '{}': expected NAME=VALUE, e.g. --{} {}", flag, value, flag, example));
  return {value.substr(0, eq), value.substr(eq + 1)};
}

}  // namespace

void ServerFlags::add_to(CLI::App& command) {
  command.add_option("--server", servers_,
                     "A dev server to start first and keep healthy during the run (repeatable): "
                     "NAME='COMMAND' (run with /bin/sh -c)")
      ->option_text("NAME=COMMAND")
      ->allow_extra_args(false)  // one value per --server: the words after it are the command's
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--health", healths_,
                     "Health check of a --server (repeatable): NAME=http://HOST:PORT/PATH, NAME=tcp://HOST:PORT "
                     "or NAME=exec:COMMAND")
      ->option_text("NAME=URL")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void ServerFlags::apply_to(config::Config& config) const {
  for (const auto& value : servers_) {
    auto [name, command] = split_named(value, "server", "api='uvicorn app:app --port 8000'");
    config.set(fmt::format("servers.{}.command", name), command, config::Origin{config::Origin::Layer::flag, "server"});
  }
  for (const auto& value : healths_) {
    auto [name, url] = split_named(value, "health", "api=http://127.0.0.1:8000/health");
    config.set(fmt::format("servers.{}.health", name), url, config::Origin{config::Origin::Layer::flag, "health"});
  }
}

}  // namespace guardian::cli
