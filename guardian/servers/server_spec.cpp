#include "guardian/servers/server_spec.hpp"

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/uvicorn/uvicorn_adapter.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/config/schema.hpp"
#include "guardian/health/restart_policy.hpp"
#include "guardian/process/command_lookup.hpp"
#include "guardian/process/exit_status.hpp"

namespace guardian::servers {
namespace {

using config::ConfigError;
using std::chrono::milliseconds;

// Reads servers.NAME.FIELD, falling back to the schema's default (wildcard keys have no
// entries of their own in Config::defaults()).
class ServerKeys {
 public:
  ServerKeys(const config::Config& config, std::string name) : config_(config), name_(std::move(name)) {}

  std::string key(std::string_view field) const { return fmt::format("servers.{}.{}", name_, field); }

  std::string text(std::string_view field) const {
    auto full = key(field);
    if (auto entry = config_.find(full)) return entry->text;
    auto spec = config::find_spec(full);
    return spec ? spec->default_text : std::string{};
  }

  std::string where(std::string_view field) const {
    auto entry = config_.find(key(field));
    return entry ? entry->origin.describe() : "default";
  }

  milliseconds duration(std::string_view field) const {
    return config::parse_duration(text(field)).value_or(milliseconds{0});
  }

  std::optional<milliseconds> optional_duration(std::string_view field) const {
    auto value = text(field);
    if (value.empty()) return std::nullopt;
    return config::parse_duration(value);
  }

  unsigned integer(std::string_view field) const {
    return static_cast<unsigned>(std::strtoul(text(field).c_str(), nullptr, 10));
  }

  std::vector<milliseconds> durations(std::string_view field) const {
    std::vector<milliseconds> out;
    const std::string value = text(field);  // owned here: the views below point into it
    std::string_view rest = value;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (item.starts_with(' ')) item.remove_prefix(1);
      if (auto d = config::parse_duration(item)) out.push_back(*d);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return out;
  }

 private:
  const config::Config& config_;
  std::string name_;
};

// A simple command ("uvicorn app:app --port 8000") runs as `exec COMMAND` so the server
// itself is the root process: signals reach it directly and its exit status is its own.
// Anything with shell syntax (lists, pipes, subshells, leading assignments, keywords)
// runs as written.
bool is_simple_command(std::string_view text) {
  if (text.find_first_of(";&|\n()`{}") != std::string_view::npos || text.find("$(") != std::string_view::npos)
    return false;
  auto start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return false;
  auto first = text.substr(start, text.find_first_of(" \t", start) - start);
  if (first.find('=') != std::string_view::npos) return false;
  for (std::string_view keyword : {"exec", "if", "for", "while", "until", "case", "!", "cd", "export"})
    if (first == keyword) return false;
  return true;
}

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

ServerSpec ServerSpec::from_config(const config::Config& config, const std::string& name,
                                   std::optional<std::vector<std::string>> argv) {
  if (!valid_name(name))
    throw ConfigError(fmt::format("'{}' is not a server name; use letters, digits, '-' and '_' (e.g. api)", name));
  ServerKeys keys(config, name);
  ServerSpec spec;
  spec.name = name;

  if (argv && !argv->empty()) {
    spec.argv = *argv;
    spec.command_text = fmt::format("{}", fmt::join(spec.argv, " "));
    const char* path = std::getenv("PATH");
    auto found = process::find_program(spec.argv[0], path ? path : "/usr/bin:/bin");
    if (auto* failure = std::get_if<process::LookupFailure>(&found))
      throw ConfigError(fmt::format("server '{}': {}", name, failure->message));
    spec.program = std::get<std::filesystem::path>(found);
  } else {
    spec.command_text = keys.text("command");
    if (spec.command_text.find_first_not_of(" \t") == std::string::npos)
      throw ConfigError(fmt::format("server '{}' has no command: set {} in guardian.toml or pass "
                                    "--server {}='COMMAND'", name, keys.key("command"), name));
    spec.argv = {"/bin/sh", "-c",
                 is_simple_command(spec.command_text) ? "exec " + spec.command_text : spec.command_text};
    spec.program = "/bin/sh";
  }
  spec.uvicorn = adapters::uvicorn::is_uvicorn(spec.argv);

  if (auto health_text = keys.text("health"); !health_text.empty()) {
    auto parsed = health::parse_probe_target(health_text);
    if (auto* error = std::get_if<std::string>(&parsed))
      throw ConfigError(fmt::format("{}: {}: {}", keys.where("health"), keys.key("health"), *error));
    spec.probe = std::get<health::ProbeTarget>(parsed);
  }
  auto statuses = health::StatusSet::parse(keys.text("healthy_status"));
  if (!statuses)
    throw ConfigError(fmt::format("{}: {}: '{}' is not a list of HTTP statuses; use e.g. \"200-399\" or "
                                  "\"200,204\"", keys.where("healthy_status"), keys.key("healthy_status"),
                                  keys.text("healthy_status")));
  spec.healthy_statuses = *statuses;

  spec.pinned_probe_interval = keys.optional_duration("probe_interval");
  if (spec.pinned_probe_interval && spec.pinned_probe_interval->count() <= 0)
    throw ConfigError(fmt::format("{}: {} must be longer than 0 (e.g. 1s)", keys.where("probe_interval"),
                                  keys.key("probe_interval")));
  spec.probe_timeout = keys.duration("probe_timeout");
  if (spec.probe_timeout.count() <= 0)
    throw ConfigError(fmt::format("{}: {} must be longer than 0 (e.g. 10s)", keys.where("probe_timeout"),
                                  keys.key("probe_timeout")));
  spec.slow.warning = keys.duration("slow_warning");
  spec.slow.critical = keys.duration("slow_critical");

  auto& life = spec.lifecycle;
  life.startup_timeouts = keys.durations("startup_timeouts");
  for (auto timeout : life.startup_timeouts)
    if (timeout.count() <= 0)
      throw ConfigError(fmt::format("{}: {}: every startup timeout must be longer than 0 (e.g. 90s,120s)",
                                    keys.where("startup_timeouts"), keys.key("startup_timeouts")));
  if (life.startup_timeouts.empty()) life.startup_timeouts = health::StartupSchedule::default_timeouts();
  life.slow_start = keys.duration("slow_start");
  life.restart = health::parse_restart_policy(keys.text("restart")).value_or(health::RestartPolicy::always);
  life.restart_delay = keys.duration("restart_delay");
  life.backoff_cap = keys.duration("backoff_cap");
  life.stable_uptime = keys.duration("stable_uptime");
  life.unhealthy_after = std::max(1u, keys.integer("unhealthy_after"));
  life.breaker_failures = keys.integer("breaker_failures");
  life.breaker_window = keys.duration("breaker_window");
  life.flap_downs = keys.integer("flap_downs");
  life.flap_window = keys.duration("flap_window");

  auto stop_signal = keys.text("stop_signal");
  if (stop_signal == "auto") {
    spec.stop_signals = spec.uvicorn ? adapters::uvicorn::stop_signals() : std::vector<int>{SIGTERM};
    spec.signal_root_first = adapters::uvicorn::signal_root_first(spec.argv);
  } else {
    int first = process::signal_number(stop_signal).value_or(SIGTERM);
    spec.stop_signals = {first};
    if (first != SIGTERM) spec.stop_signals.push_back(SIGTERM);
  }
  spec.stop_grace = keys.duration("stop_grace");
  if (auto dir = keys.text("dir"); !dir.empty()) spec.working_dir = dir;
  return spec;
}

std::vector<ServerSpec> ServerSpec::all_from_config(const config::Config& config) {
  std::vector<ServerSpec> specs;
  for (const auto& name : config.table_names("servers")) specs.push_back(from_config(config, name));
  return specs;
}

}  // namespace guardian::servers
