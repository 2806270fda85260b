#pragma once
// The effective configuration: defaults < guardian.toml or [tool.guardian] in
// pyproject.toml < GUARDIAN_* environment < command-line flags, each value
// remembering where it came from.
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "guardian/config/schema.hpp"

namespace guardian::config {

/// A configuration or usage error that ends the run before anything starts (exit 125).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Origin {
  enum class Layer { default_value, file, environment, flag };
  Layer layer = Layer::default_value;
  std::string where;  // "guardian.toml:12", "GUARDIAN_TIMEOUT", "--timeout"
  std::string describe() const;
};

struct Entry {
  std::string text;
  Origin origin;
};

/// What load() reads besides the defaults.
struct Sources {
  std::filesystem::path working_dir = std::filesystem::current_path();
  std::optional<std::filesystem::path> explicit_file;           // --config PATH
  std::vector<std::pair<std::string, std::string>> environment;  // NAME, value
  std::vector<std::pair<std::string, std::string>> flags;        // flag name (no dashes), value
};

class Config {
 public:
  /// Loads every layer; throws ConfigError naming file, line, key and a fix.
  static Config load(const Sources& sources);
  /// Only the defaults (tests, and commands that need no file).
  static Config defaults();

  bool has(const std::string& key) const;
  const Entry* find(const std::string& key) const;
  std::string text(const std::string& key) const;  // "" when unset
  bool boolean(const std::string& key) const;
  std::optional<std::chrono::milliseconds> duration(const std::string& key) const;
  std::vector<std::chrono::milliseconds> duration_list(const std::string& key) const;
  std::optional<std::uint64_t> integer(const std::string& key) const;

  /// Concrete keys under a wildcard table, e.g. names("servers") -> {"api", "worker"}.
  std::vector<std::string> table_names(const std::string& prefix) const;
  /// [plugins.<name>] tables as given (native TOML types kept).
  const nlohmann::json& plugin_tables() const { return plugin_tables_; }
  /// The file that was read, if any.
  const std::optional<std::filesystem::path>& file() const { return file_; }

  const std::map<std::string, Entry>& entries() const { return entries_; }

  /// The layers load() adds over the defaults, in order (each throws ConfigError on a bad value).
  /// A file's text (guardian.toml, or pyproject.toml's [tool.guardian] when `pyproject`).
  void add_file_layer(std::string_view text, const std::filesystem::path& file, bool pyproject);
  /// GUARDIAN_* variables (NAME, value) named in the schema; others are ignored.
  void add_environment_layer(const std::vector<std::pair<std::string, std::string>>& environment);
  /// Flags (name without dashes, value).
  void add_flag_layer(const std::vector<std::pair<std::string, std::string>>& flags);

  /// Sets one value (used by the loader; tests may use it too). Validates against the schema.
  void set(const std::string& key, std::string text, Origin origin);

 private:
  std::map<std::string, Entry> entries_;
  nlohmann::json plugin_tables_ = nlohmann::json::object();
  std::optional<std::filesystem::path> file_;
  friend class FileLayer;
};

/// The GUARDIAN_* variables of this process's environment.
std::vector<std::pair<std::string, std::string>> guardian_environment();

}  // namespace guardian::config
