#pragma once
// The configuration schema: one table that names every setting once, with its type,
// default, environment variable, command-line flag and description. Files, the
// environment, flags, `guardian config show` and the docs are all driven by it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::config {

enum class ValueKind {
  string,
  path,
  boolean,
  integer,        // non-negative
  duration,       // "90s"
  duration_list,  // "90s,120s,180s" or a TOML array
  bytes_or_percent,   // "2G" or "50%"
  cores_or_percent,   // "1.5" (cores) or "150%" (of one core)
  percent,        // "80%"
  choice,         // one of KeySpec::choices
  plugin_table,   // [plugins.<name>]: passed through to the plugin, which validates it
};

/// One setting. A key segment "*" matches any table name (e.g. "servers.*.command").
struct KeySpec {
  std::string key;
  ValueKind kind = ValueKind::string;
  std::string default_text;  // empty: unset by default
  std::string env;           // GUARDIAN_* variable, or empty
  std::string flag;          // long flag without dashes ("timeout"), or empty
  std::string description;
  std::vector<std::string> choices;  // for ValueKind::choice
};

/// Every known setting.
const std::vector<KeySpec>& schema();

/// The spec whose key matches `key` (wildcards allowed), or nullptr.
const KeySpec* find_spec(std::string_view key);

/// Why `text` is not a valid value for `spec`, with examples of valid ones; empty if valid.
std::optional<std::string> validation_error(const KeySpec& spec, std::string_view text);

/// A human name of the kind, for help and error texts ("duration (e.g. 90s)").
std::string describe_kind(const KeySpec& spec);

}  // namespace guardian::config
