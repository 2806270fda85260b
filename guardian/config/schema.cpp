#include "guardian/config/schema.hpp"

#include <charconv>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/config/quantity.hpp"
#include "guardian/config/schema_keys.hpp"

namespace guardian::config {
namespace {

std::vector<KeySpec> build_schema() {
  std::vector<KeySpec> table;
  // Each component declares its own settings (keys_*.cpp); the order here is the order
  // of `guardian config keys`.
  add_run_keys(table);
  add_limits_keys(table);
  add_monitor_keys(table);
  add_server_keys(table);
  add_plugin_keys(table);
  add_adapter_keys(table);
  return table;
}

bool key_matches(std::string_view pattern, std::string_view key) {
  while (true) {
    auto p_dot = pattern.find('.');
    auto k_dot = key.find('.');
    auto p_seg = pattern.substr(0, p_dot);
    auto k_seg = key.substr(0, k_dot);
    if (p_seg != "*" && p_seg != k_seg) return false;
    if (p_dot == std::string_view::npos || k_dot == std::string_view::npos)
      return p_dot == std::string_view::npos && k_dot == std::string_view::npos;
    pattern.remove_prefix(p_dot + 1);
    key.remove_prefix(k_dot + 1);
  }
}

// A duration or a size past what guardian can represent deserves its own message: "is not a
// duration" would send the user looking for a typo.
std::optional<std::string> beyond_maximum(ValueKind kind, std::string_view text) {
  const bool duration = kind == ValueKind::duration || kind == ValueKind::duration_list;
  if (duration && duration_beyond_maximum(text))
    return fmt::format("'{}' is longer than the longest duration guardian accepts ({}, 100 years); "
                       "use a shorter one", text, kMaxDurationText);
  if (kind == ValueKind::bytes_or_percent && bytes_beyond_maximum(text))
    return fmt::format("'{}' is larger than the largest size guardian accepts ({}, 1 EiB); use a "
                       "smaller one or a share such as 50%", text, kMaxBytesText);
  return std::nullopt;
}

}  // namespace

const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> table = build_schema();
  return table;
}

const KeySpec* find_spec(std::string_view key) {
  for (const auto& spec : schema())
    if (key_matches(spec.key, key)) return &spec;
  return nullptr;
}

std::string describe_kind(const KeySpec& spec) {
  switch (spec.kind) {
    case ValueKind::string: return "text";
    case ValueKind::path: return "path";
    case ValueKind::boolean: return "true or false";
    case ValueKind::integer: return "a whole number";
    case ValueKind::duration: return "a duration (e.g. 500ms, 90s, 15m, 1h30m)";
    case ValueKind::duration_list: return "a list of durations (e.g. 90s,120s,180s)";
    case ValueKind::bytes_or_percent: return "a size or a share (e.g. 2G, 512M, 50%)";
    case ValueKind::cores_or_percent:
      return fmt::format("cores or a percentage of one core, more than 0 and at most {:g} cores (e.g. 1.5, 150%)",
                         kMaxCores);
    case ValueKind::percent: return "a percentage (e.g. 80%)";
    case ValueKind::choice: return fmt::format("one of {}", fmt::join(spec.choices, ", "));
    case ValueKind::plugin_table: return "a table";
  }
  return "a value";
}

std::optional<std::string> validation_error(const KeySpec& spec, std::string_view text) {
  bool ok = true;
  switch (spec.kind) {
    case ValueKind::string:
    case ValueKind::path:
    case ValueKind::plugin_table: break;
    case ValueKind::boolean: ok = text == "true" || text == "false"; break;
    case ValueKind::integer: {
      unsigned long long value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      ok = ec == std::errc{} && end == text.data() + text.size();
      break;
    }
    case ValueKind::duration: ok = parse_duration(text).has_value(); break;
    case ValueKind::duration_list: {
      for (auto item : split_list(text))
        if (auto too_long = beyond_maximum(spec.kind, item)) return too_long;
      ok = !text.empty() && parse_duration_list(text).has_value();
      break;
    }
    case ValueKind::bytes_or_percent: {
      auto share = parse_percent(text);
      ok = share ? (*share > 0 && *share <= 1.0) : parse_bytes(text).has_value();
      break;
    }
    case ValueKind::cores_or_percent: ok = parse_cores(text).has_value(); break;
    case ValueKind::percent: {
      auto share = parse_percent(text);
      ok = share && *share >= 0 && *share <= 1.0;
      break;
    }
    case ValueKind::choice: {
      ok = false;
      for (const auto& choice : spec.choices) ok = ok || choice == text;
      break;
    }
  }
  if (ok) return std::nullopt;
  if (auto too_large = beyond_maximum(spec.kind, text)) return too_large;
  return fmt::format("'{}' is not {}", text, describe_kind(spec));
}

}  // namespace guardian::config
