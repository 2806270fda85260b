#pragma once
// How a dev server's durations and probe answers are written in its console lines, log
// events, alerts and report (shared by the files of ServerSupervisor).
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "guardian/health/probe_result.hpp"

namespace guardian::servers {

/// "850ms", "1.2s", "95s", "4m10s": short and readable.
std::string human_duration(std::chrono::milliseconds duration);

/// {"ok", "latency_ms", "detail", "http_status"} of one probe answer.
nlohmann::json probe_json(const health::ProbeResult& result);

}  // namespace guardian::servers
