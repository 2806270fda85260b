#include "guardian/limits/ceilings.hpp"

#include <cmath>
#include <fmt/format.h>

#include "guardian/config/quantity.hpp"

namespace guardian::limits {
namespace {

std::string origin_of(const config::Config& config, const std::string& key) {
  const auto* entry = config.find(key);
  return entry ? entry->origin.describe() : std::string("default");
}

std::uint64_t share_of(std::uint64_t whole, double share) {
  return static_cast<std::uint64_t>(std::llround(static_cast<double>(whole) * share));
}

// A size, or a share of `whole`.
std::optional<std::uint64_t> bytes_or_share(const std::string& text, std::uint64_t whole) {
  if (auto share = config::parse_percent(text)) return share_of(whole, *share);
  return config::parse_bytes(text);
}

}  // namespace

std::string Ceilings::describe() const {
  std::string out = cpu_cores ? fmt::format("cpu {:.2f} cores", *cpu_cores) : "cpu unlimited";
  if (memory_max_bytes) {
    out += fmt::format(" · memory {}", config::format_bytes(*memory_max_bytes));
    if (memory_high_bytes && *memory_high_bytes < *memory_max_bytes)
      out += fmt::format(" (high {})", config::format_bytes(*memory_high_bytes));
  } else {
    out += " · memory unlimited";
  }
  if (pids_max) out += fmt::format(" · pids {}", *pids_max);
  return out;
}

nlohmann::json Ceilings::to_json() const {
  auto opt = [](const auto& value) { return value ? nlohmann::json(*value) : nlohmann::json(nullptr); };
  return {{"cpu_cores", opt(cpu_cores)},
          {"cpu_origin", cpu_origin},
          {"memory_max_bytes", opt(memory_max_bytes)},
          {"memory_high_bytes", opt(memory_high_bytes)},
          {"memory_origin", memory_origin},
          {"swap_max_bytes", swap_max_bytes},
          {"pids_max", opt(pids_max)}};
}

Ceilings compute_ceilings(const config::Config& config, const Capacity& capacity) {
  Ceilings out;
  std::string mode = config.text("mode");
  if (mode.empty()) mode = "dev";

  if (auto text = config.text("limits.cpu"); !text.empty()) {
    // "150%" is a percentage of one core, a bare number is cores.
    out.cpu_cores = config::parse_cores(text);  // validated by the schema
    out.cpu_origin = fmt::format("{} {}", origin_of(config, "limits.cpu"), text);
  } else if (auto share = config::parse_percent(config.text("limits.modes." + mode + ".cpu"))) {
    out.cpu_cores = capacity.cores * *share;
    out.cpu_origin = fmt::format("mode {}: {:g}% of {}", mode, *share * 100, capacity.cores_source);
  }
  if (out.cpu_cores && *out.cpu_cores <= 0)
    throw config::ConfigError("the CPU ceiling must be more than 0 cores; use e.g. --cpu 0.5 or --cpu 150%");

  if (auto text = config.text("limits.memory"); !text.empty()) {
    out.memory_max_bytes = bytes_or_share(text, capacity.memory_bytes);
    auto share = config::parse_percent(text);
    out.memory_origin = share ? fmt::format("{} {} of {}", origin_of(config, "limits.memory"), text,
                                            capacity.memory_source)
                              : fmt::format("{} {}", origin_of(config, "limits.memory"), text);
  } else if (auto share = config::parse_percent(config.text("limits.modes." + mode + ".memory"))) {
    out.memory_max_bytes = share_of(capacity.memory_bytes, *share);
    out.memory_origin = fmt::format("mode {}: {:g}% of {}", mode, *share * 100, capacity.memory_source);
  }
  if (out.memory_max_bytes && *out.memory_max_bytes < 4096)
    throw config::ConfigError(fmt::format(
        "a memory ceiling of {} bytes leaves nothing to run in; use e.g. --memory 512M or --memory 50%",
        *out.memory_max_bytes));

  if (out.memory_max_bytes) {
    out.swap_max_bytes = bytes_or_share(config.text("limits.swap"), *out.memory_max_bytes).value_or(0);
    // Without swap, memory.high below the ceiling can hold a tree throttled forever (reclaim
    // keeps evicting and refaulting its file pages, memory.max is never reached): unless asked,
    // the early reclaim step exists only where the tree may swap.
    std::string high = config.text("limits.memory_high");
    if (high.empty()) high = out.swap_max_bytes > 0 ? "90%" : "100%";
    out.memory_high_bytes =
        std::min(*out.memory_max_bytes, bytes_or_share(high, *out.memory_max_bytes).value_or(*out.memory_max_bytes));
  } else if (auto text = config.text("limits.swap"); !text.empty() && !config::parse_percent(text)) {
    out.swap_max_bytes = config::parse_bytes(text).value_or(0);
  }

  if (auto pids = config.integer("limits.pids")) {
    if (*pids == 0) throw config::ConfigError("--pids 0 would not even let the command start; use e.g. --pids 512");
    out.pids_max = *pids;
  }
  return out;
}

}  // namespace guardian::limits
