#include "guardian/limits/enclosing_cap.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <vector>

#include "guardian/config/quantity.hpp"

namespace guardian::limits {

std::optional<std::string> cap_to_enclosing(Ceilings& ceilings, const CgroupProbe& caller) {
  std::vector<std::string> lowered;
  if (caller.enclosing_memory_bytes && ceilings.memory_max_bytes &&
      *ceilings.memory_max_bytes > *caller.enclosing_memory_bytes) {
    const std::uint64_t cap = *caller.enclosing_memory_bytes;
    lowered.push_back(fmt::format("memory {} → {} ({})", config::format_bytes(*ceilings.memory_max_bytes),
                                  config::format_bytes(cap), caller.enclosing_memory_from));
    if (ceilings.memory_high_bytes && *ceilings.memory_max_bytes > 0)  // keep high's share of max
      ceilings.memory_high_bytes = static_cast<std::uint64_t>(static_cast<double>(*ceilings.memory_high_bytes) /
                                                              static_cast<double>(*ceilings.memory_max_bytes) *
                                                              static_cast<double>(cap));
    ceilings.memory_max_bytes = cap;
    ceilings.memory_origin += fmt::format(", capped to the enclosing {}", caller.enclosing_memory_from);
  }
  if (caller.enclosing_cpu_cores && ceilings.cpu_cores && *ceilings.cpu_cores > *caller.enclosing_cpu_cores) {
    lowered.push_back(fmt::format("cpu {:g} → {:g} cores ({})", *ceilings.cpu_cores, *caller.enclosing_cpu_cores,
                                  caller.enclosing_cpu_from));
    ceilings.cpu_cores = caller.enclosing_cpu_cores;
    ceilings.cpu_origin += fmt::format(", capped to the enclosing {}", caller.enclosing_cpu_from);
  }
  if (lowered.empty()) return std::nullopt;
  return fmt::format("ceilings lowered to the limits guardian was started inside: {}", fmt::join(lowered, "; "));
}

}  // namespace guardian::limits
