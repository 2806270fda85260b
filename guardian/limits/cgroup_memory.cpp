#include "guardian/limits/cgroup_memory.hpp"

#include "guardian/limits/cgroup_formats.hpp"

namespace guardian::limits::memory {

Status apply(const CgroupFs& fs, std::string_view dir, const Settings& settings) {
  // memory.high first: lowering max below the current use could OOM-kill at once, while a
  // high limit only throttles.
  if (auto error = fs.write(dir, "memory.high", format_max_value(settings.high_bytes))) return error;
  if (auto error = fs.write(dir, "memory.max", format_max_value(settings.max_bytes))) return error;
  if (settings.swap_max_bytes && fs.exists(dir, "memory.swap.max"))
    if (auto error = fs.write(dir, "memory.swap.max", format_max_value(settings.swap_max_bytes))) return error;
  if (fs.exists(dir, "memory.oom.group"))
    if (auto error = fs.write(dir, "memory.oom.group", settings.oom_group ? "1" : "0")) return error;
  return std::nullopt;
}

Events parse_events(std::string_view text) {
  auto keyed = parse_flat_keyed(text);
  auto get = [&](const char* key) {
    auto it = keyed.find(key);
    return it == keyed.end() ? std::uint64_t{0} : it->second;
  };
  return Events{get("high"), get("max"), get("oom"), get("oom_kill"), get("oom_group_kill")};
}

Result<Events> read_events(const CgroupFs& fs, std::string_view dir) {
  auto text = fs.read(dir, "memory.events");
  if (!text) return text.error();
  return parse_events(*text);
}

Result<std::uint64_t> read_current(const CgroupFs& fs, std::string_view dir) {
  auto text = fs.read(dir, "memory.current");
  if (!text) return text.error();
  auto value = parse_max_value(*text);
  return value && value->value ? *value->value : 0;
}

namespace {

// A value file that may say "max": empty for "max", an unreadable or missing file.
std::optional<std::uint64_t> read_limit_value(const CgroupFs& fs, std::string_view dir, std::string_view file) {
  auto text = fs.read(dir, file);
  if (!text) return std::nullopt;
  auto value = parse_max_value(*text);
  if (!value) return std::nullopt;
  return value->value;
}

}  // namespace

std::optional<std::uint64_t> read_high(const CgroupFs& fs, std::string_view dir) {
  return read_limit_value(fs, dir, "memory.high");
}

std::optional<std::uint64_t> read_peak(const CgroupFs& fs, std::string_view dir) {
  return read_limit_value(fs, dir, "memory.peak");
}

}  // namespace guardian::limits::memory
