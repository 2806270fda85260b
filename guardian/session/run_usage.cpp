#include "guardian/session/run_usage.hpp"

#include <algorithm>

namespace guardian::session {
namespace {

template <typename T>
void add(std::optional<T>& total, const std::optional<T>& part) {
  if (part) total = total.value_or(T{}) + *part;
}

template <typename T>
void keep_largest(std::optional<T>& total, const std::optional<T>& part) {
  if (part) total = total ? std::max(*total, *part) : *part;
}

void keep_largest(std::optional<limits::TreeUsage::Pressure>& total,
                  const std::optional<limits::TreeUsage::Pressure>& part) {
  if (!part) return;
  if (!total) total.emplace();
  keep_largest(total->some_avg10, part->some_avg10);
  keep_largest(total->full_avg10, part->full_avg10);
}

}  // namespace

limits::TreeUsage sum_usage(const std::vector<limits::TreeUsage>& parts) {
  if (parts.size() == 1) return parts.front();
  limits::TreeUsage total;
  for (const auto& part : parts) {
    total.cpu_usec += part.cpu_usec;
    total.memory_bytes += part.memory_bytes;
    total.processes += part.processes;
    total.threads += part.threads;
    total.cpu_throttled_usec += part.cpu_throttled_usec;
    total.cpu_nr_throttled += part.cpu_nr_throttled;
    keep_largest(total.cpu_ceiling_cores, part.cpu_ceiling_cores);
    keep_largest(total.memory_ceiling_bytes, part.memory_ceiling_bytes);
    add(total.io_read_bytes, part.io_read_bytes);
    add(total.io_write_bytes, part.io_write_bytes);
    add(total.open_fds, part.open_fds);
    keep_largest(total.cpu_pressure, part.cpu_pressure);
    keep_largest(total.memory_pressure, part.memory_pressure);
    keep_largest(total.io_pressure, part.io_pressure);
  }
  return total;
}

}  // namespace guardian::session
