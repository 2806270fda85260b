#include "guardian/health/probe_result.hpp"

namespace guardian::health {

std::string_view to_string(ProbeClass probe_class) {
  switch (probe_class) {
    case ProbeClass::ok: return "ok";
    case ProbeClass::slow_warning: return "slow_warning";
    case ProbeClass::slow_critical: return "slow_critical";
    case ProbeClass::failure: return "failure";
  }
  return "failure";
}

ProbeClass classify(const ProbeResult& result, const SlowThresholds& thresholds) {
  if (!result.ok) return ProbeClass::failure;
  if (result.latency >= thresholds.critical) return ProbeClass::slow_critical;
  if (result.latency >= thresholds.warning) return ProbeClass::slow_warning;
  return ProbeClass::ok;
}

}  // namespace guardian::health
