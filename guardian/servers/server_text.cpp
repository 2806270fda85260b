#include "guardian/servers/server_text.hpp"

#include <fmt/format.h>

#include "guardian/config/quantity.hpp"

namespace guardian::servers {

using namespace std::chrono_literals;

std::string human_duration(std::chrono::milliseconds duration) {
  if (duration < 1s) return fmt::format("{}ms", duration.count());
  if (duration < 10s) return fmt::format("{:.1f}s", static_cast<double>(duration.count()) / 1000.0);
  return config::format_duration(std::chrono::duration_cast<std::chrono::seconds>(duration));
}

nlohmann::json probe_json(const health::ProbeResult& result) {
  return {{"ok", result.ok},
          {"latency_ms", result.latency.count()},
          {"detail", result.detail},
          {"http_status", result.http_status ? nlohmann::json(result.http_status) : nlohmann::json()}};
}

}  // namespace guardian::servers
