#pragma once
// The outcome of one health probe and its classification: ok, slow (warning or
// critical, by response time) or failure.
#include <chrono>
#include <string>
#include <string_view>

namespace guardian::health {

struct ProbeResult {
  bool ok = false;
  std::chrono::milliseconds latency{0};  // from the start of the probe to its answer (or failure)
  int http_status = 0;                   // HTTP probes that got an answer
  std::string detail;                    // "HTTP 200", "connection refused", "timed out after 2s", "exit 1"
};

enum class ProbeClass { ok, slow_warning, slow_critical, failure };
std::string_view to_string(ProbeClass probe_class);

/// Response times above which a healthy answer is still worth a SERVER_SLOW condition.
struct SlowThresholds {
  // Below the 1 s probe timeout: a slower answer is a failed check.
  std::chrono::milliseconds warning{500};
  std::chrono::milliseconds critical{800};
};

ProbeClass classify(const ProbeResult& result, const SlowThresholds& thresholds);

}  // namespace guardian::health
