#include "status_api.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>
#include <thread>

namespace guardian::websocket {
namespace {

using nlohmann::json;

constexpr const char* kPrefix = "/api/monitoring";

// Parameters a route accepts; "token" is the API's own.
std::optional<HttpResponse> unknown_parameter(const HttpRequest& request, const std::set<std::string>& allowed) {
  for (const auto& [name, value] : request.query) {
    if (name == "token" || allowed.count(name)) continue;
    std::string names;
    for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
    return error_response(400, "unknown query parameter '" + name + "'" +
                                   (names.empty() ? std::string(": this endpoint takes none")
                                                  : ": this endpoint takes " + names),
                          {{"parameter", name}});
  }
  return std::nullopt;
}

// An integer parameter within [min, max]; fallback when absent. Sets `error` when bad.
long integer_parameter(const HttpRequest& request, const std::string& name, long fallback, long min, long max,
                       std::optional<HttpResponse>& error) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  const std::string& text = it->second;
  const bool digits = !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  const long value = digits ? std::stol(text) : -1;
  if (!digits || value < min || value > max) {
    error = error_response(400,
                           "query parameter '" + name + "' must be a whole number from " + std::to_string(min) +
                               " to " + std::to_string(max) + " (got '" + text + "')",
                           {{"parameter", name}, {"min", min}, {"max", max}});
  }
  return value;
}

HttpResponse ok(const json& body) { return json_response(200, body.dump(-1, ' ', false, json::error_handler_t::replace)); }

// The host answered with {"error": ...}: guardian cannot tell (e.g. no monitor yet).
bool host_failed(const json& answer) { return answer.is_object() && answer.contains("error") && answer.size() == 1; }

std::optional<double> number_at(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

json or_null(const std::optional<double>& value) { return value ? json(*value) : json(); }

double round2(double value) { return std::round(value * 100.0) / 100.0; }

// ok / warning / critical / unknown for a percentage against its thresholds.
std::string grade(const std::optional<double>& percent, const json& thresholds) {
  if (!percent) return "unknown";
  if (*percent >= thresholds.value("critical_percent", 1e300)) return "critical";
  if (*percent >= thresholds.value("warning_percent", 1e300)) return "warning";
  return "ok";
}

int rank(const std::string& grade) {
  if (grade == "critical") return 3;
  if (grade == "warning") return 2;
  if (grade == "ok") return 1;
  return 0;
}

json thresholds_of(const json& status, const char* metric) {
  try {
    return status.at("monitor").at("settings").at("thresholds").at(metric);
  } catch (const json::exception&) {
    return json::object();
  }
}

}  // namespace

HttpResponse error_response(int status, const std::string& message, json extra) {
  json body = {{"error", message}, {"status", status}};
  for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = *it;
  return json_response(status, body.dump());
}

void StatusApi::add_routes(Router& router) const {
  const std::string p = kPrefix;
  router.add("GET", p + "/health", [this](const HttpRequest& r) { return health(r); });
  router.add("GET", p + "/status", [this](const HttpRequest& r) { return status(r); });
  router.add("GET", p + "/alerts/active", [this](const HttpRequest& r) { return active_alerts(r); });
  router.add("GET", p + "/snapshots/recent", [this](const HttpRequest& r) { return recent_snapshots(r); });
  router.add("GET", p + "/infra/metrics", [this](const HttpRequest& r) { return infra_metrics(r); });
}

HttpResponse StatusApi::health(const HttpRequest& request) const {
  if (auto bad = unknown_parameter(request, {})) return *bad;
  const json status = query_({{"what", "status"}});
  if (host_failed(status)) return error_response(503, status["error"].get<std::string>());
  const json snapshot = status.value("latest_snapshot", json());
  const json tree = snapshot.is_object() ? snapshot.value("tree", json::object()) : json::object();

  const auto cpu_thresholds = thresholds_of(status, "cpu");
  const auto memory_thresholds = thresholds_of(status, "memory");
  const auto disk_thresholds = thresholds_of(status, "disk");

  const auto cpu_percent = number_at(tree, "cpu_percent_of_ceiling");
  const auto memory_percent = snapshot.is_object() ? number_at(tree, "memory_percent_of_ceiling") : std::nullopt;
  json cpu = {{"percent", or_null(cpu_percent)},
              {"percent_of_core", or_null(number_at(tree, "cpu_percent_of_core"))},
              {"ceiling_cores", or_null(number_at(tree, "cpu_ceiling_cores"))},
              {"warning_percent", cpu_thresholds.value("warning_percent", json())},
              {"critical_percent", cpu_thresholds.value("critical_percent", json())},
              {"status", grade(cpu_percent, cpu_thresholds)}};
  json memory = {{"percent", or_null(memory_percent)},
                 {"bytes", or_null(number_at(tree, "memory_bytes"))},
                 {"ceiling_bytes", or_null(number_at(tree, "memory_ceiling_bytes"))},
                 {"warning_percent", memory_thresholds.value("warning_percent", json())},
                 {"critical_percent", memory_thresholds.value("critical_percent", json())},
                 {"status", grade(memory_percent, memory_thresholds)}};
  json disks = json::array();
  int worst = std::max(rank(cpu["status"]), rank(memory["status"]));
  if (snapshot.is_object()) {
    const json snapshot_disks = snapshot.value("disks", json::array());
    for (const auto& d : snapshot_disks) {
      const auto percent = number_at(d, "used_percent");
      json disk = {{"path", d.value("path", "")},
                   {"percent", or_null(percent)},
                   {"total_bytes", d.value("total_bytes", json())},
                   {"available_bytes", d.value("available_bytes", json())},
                   {"warning_percent", disk_thresholds.value("warning_percent", json())},
                   {"critical_percent", disk_thresholds.value("critical_percent", json())},
                   {"status", grade(percent, disk_thresholds)}};
      worst = std::max(worst, rank(disk["status"]));
      disks.push_back(std::move(disk));
    }
  }
  const char* overall = worst >= 3 ? "critical" : worst == 2 ? "degraded" : worst == 1 ? "healthy" : "unknown";
  return ok({{"status", overall},
             {"time", snapshot.is_object() ? snapshot.value("time", json()) : json()},
             {"level", status.contains("monitor") ? status["monitor"].value("level", json()) : json()},
             {"ceiling_source", tree.value("ceiling_source", json())},
             {"cpu", cpu},
             {"memory", memory},
             {"disks", disks}});
}

HttpResponse StatusApi::status(const HttpRequest& request) const {
  if (auto bad = unknown_parameter(request, {})) return *bad;
  const json status = query_({{"what", "status"}});
  if (host_failed(status)) return error_response(503, status["error"].get<std::string>());
  json run = {{"id", status.value("run_id", json())},
              {"state", status.value("state", json())},
              {"command", status.value("command", json())},
              {"mode", status.value("mode", json())},
              {"started_at", status.value("started_at", json())},
              {"elapsed_s", json()}};
  if (auto started = parse_iso8601_epoch_s(status.value("started_at", ""))) {
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    run["elapsed_s"] = round2(now - *started);
  }
  const json enforcement = status.value("enforcement", json());
  const json monitor = status.value("monitor", json::object());
  // Servers: the core's last observation, with uptime and probe counts from the telemetry.
  json servers = json::object();
  const json seen = telemetry_.servers();
  const json latencies = telemetry_.latency_history();
  // Named, not iterated as temporaries: GCC 12 warns (falsely) on items() of a temporary.
  const json observed = status.value("servers", json::object());
  for (auto it = observed.begin(); it != observed.end(); ++it) {
    const std::string& name = it.key();
    const json& s = it.value();
    json entry = {{"state", s.value("state", json())},
                  {"healthy", s.value("healthy", false)},
                  {"restarts", s.value("restarts", 0)},
                  {"launches", s.value("launches", 0)},
                  {"downs", s.value("downs", 0)},
                  {"health", s.value("health", json())},
                  {"last_probe_latency_ms", s.value("last_probe_latency_ms", json())},
                  {"flapping", s.value("flapping", false)},
                  {"probes", 0},
                  {"probes_ok", 0},
                  {"uptime_percent", json()},
                  {"latency_history", {{"time_s", json::array()}, {"ms", json::array()}}}};
    if (seen.contains(name)) {
      entry["probes"] = seen[name]["probes"];
      entry["probes_ok"] = seen[name]["probes_ok"];
      entry["uptime_percent"] = seen[name]["uptime_percent"];
    }
    if (latencies.contains(name)) entry["latency_history"] = latencies[name];
    servers[name] = std::move(entry);
  }
  const json summary = status.value("alerts", json::object());
  json by_type = json::object();
  const json summary_by_type = summary.value("by_type", json::object());
  for (auto it = summary_by_type.begin(); it != summary_by_type.end(); ++it)
    by_type[it.key()] = it->is_object() ? it->value("emitted", json(0)) : *it;
  json alerts = {{"total", summary.value("emitted", json(0))},
                 {"suppressed", summary.value("suppressed", json(0))},
                 {"active", summary.contains("active") && summary["active"].is_array() ? summary["active"].size() : 0},
                 {"by_type", by_type},
                 {"by_severity", summary.value("by_severity", json::object())}};
  const json settings = monitor.value("settings", json::object());
  // The protector: its policy, and what it has done so far this run (reniced, terminated, …).
  json protector = settings.value("protector", json::object());
  protector["actions"] = status.value("protector_actions", json::object());
  return ok({{"run", run},
             {"backend", enforcement.is_object() ? enforcement.value("backend", json()) : json()},
             {"enforcement", enforcement},
             {"monitor", {{"level", monitor.value("level", json())}, {"reason", monitor.value("reason", json())}}},
             {"protector", protector},
             {"thresholds", settings.value("thresholds", json())},
             {"servers", servers},
             {"alerts", alerts},
             // The test adapter's live section (counts, slowest, failures, heaviest): null
             // until a test event arrived, and in a run without a test adapter.
             {"tests", status.value("tests", json())}});
}

HttpResponse StatusApi::active_alerts(const HttpRequest& request) const {
  if (auto bad = unknown_parameter(request, {"limit"})) return *bad;
  std::optional<HttpResponse> error;
  const long limit = integer_parameter(request, "limit", 20, 1, 500, error);
  if (error) return *error;
  const json answer = query_({{"what", "alerts"}, {"limit", limit}});
  if (host_failed(answer)) return error_response(503, answer["error"].get<std::string>());
  json recent = answer.value("history", json::array());
  std::reverse(recent.begin(), recent.end());  // newest first
  const json active = answer.value("active", json::array());
  return ok({{"active", active},
             {"recent", recent},
             {"counts", {{"active", active.size()}, {"recent", recent.size()}}},
             {"limit", limit}});
}

HttpResponse StatusApi::recent_snapshots(const HttpRequest& request) const {
  if (auto bad = unknown_parameter(request, {"minutes", "limit"})) return *bad;
  std::optional<HttpResponse> error;
  const long minutes = integer_parameter(request, "minutes", 10, 1, 1440, error);
  if (error) return *error;
  const long limit = integer_parameter(request, "limit", 1000, 1, 100000, error);
  if (error) return *error;
  const json what = {{"what", "snapshots"}, {"minutes", minutes}, {"limit", limit}};
  // A full ring is ~0.7 MB of JSON: splice guardian's answer ({"capacity","count","snapshots"},
  // keys sorted) into the response instead of parsing and dumping it again (3x cheaper).
  std::string raw = raw_query_ ? raw_query_(what) : std::string();
  const std::string expected_start = "{\"capacity\":";
  if (raw.rfind(expected_start, 0) == 0) {
    return json_response(200, "{\"limit\":" + std::to_string(limit) + ",\"minutes\":" + std::to_string(minutes) +
                                  "," + raw.substr(1));
  }
  json answer = raw.empty() ? query_(what) : json::parse(raw, nullptr, false);
  if (answer.is_discarded()) return error_response(503, "guardian answered with malformed JSON");
  if (host_failed(answer)) return error_response(503, answer["error"].get<std::string>());
  json snapshots = answer.value("snapshots", json::array());
  return ok({{"minutes", minutes},
             {"limit", limit},
             {"count", snapshots.size()},
             {"capacity", answer.value("capacity", json())},
             {"snapshots", std::move(snapshots)}});
}

HttpResponse StatusApi::infra_metrics(const HttpRequest& request) const {
  if (auto bad = unknown_parameter(request, {"points", "minutes"})) return *bad;
  std::optional<HttpResponse> error;
  const long points = integer_parameter(request, "points", 12, 1, 1000, error);
  if (error) return *error;
  const long minutes = integer_parameter(request, "minutes", 60, 1, 1440, error);
  if (error) return *error;
  const json status = query_({{"what", "status"}});
  if (host_failed(status)) return error_response(503, status["error"].get<std::string>());
  const json window = query_({{"what", "snapshots"}, {"minutes", minutes}});
  const json snapshot = status.value("latest_snapshot", json());
  const json tree = snapshot.is_object() ? snapshot.value("tree", json::object()) : json::object();
  const json host = snapshot.is_object() ? snapshot.value("host", json::object()) : json::object();

  // Memory as a share of the machine's RAM, like the original (psutil) endpoint.
  auto memory_percent_of = [](const json& s) -> std::optional<double> {
    const json t = s.value("tree", json::object());
    const json h = s.value("host", json::object());
    const auto bytes = number_at(t, "memory_bytes");
    const auto total = number_at(h, "memory_total_bytes");
    if (!bytes || !total || *total <= 0) return std::nullopt;
    return round2(100.0 * *bytes / *total);
  };

  // At most `points` entries, evenly spread over the window, the newest always included.
  const json all = window.value("snapshots", json::array());
  std::vector<std::size_t> picked;
  if (!all.empty()) {
    const std::size_t n = all.size();
    const std::size_t want = std::min<std::size_t>(n, static_cast<std::size_t>(points));
    for (std::size_t i = 0; i < want; ++i) picked.push_back(n - 1 - (want == 1 ? 0 : i * (n - 1) / (want - 1)));
    std::reverse(picked.begin(), picked.end());
  }
  json cpu_history = json::array();
  json memory_history = json::array();
  for (std::size_t i : picked) {
    const json& s = all[i];
    const auto cpu = number_at(s.value("tree", json::object()), "cpu_percent_of_core");
    cpu_history.push_back({{"timestamp", s.value("time", "")}, {"percentage", cpu ? round2(*cpu) : 0.0}});
    const auto memory = memory_percent_of(s);
    memory_history.push_back({{"timestamp", s.value("time", "")}, {"percentage", memory.value_or(0.0)}});
  }
  const json enforcement = status.value("enforcement", json());
  const std::string backend = enforcement.is_object() ? enforcement.value("backend", "unknown") : "unknown";
  const auto memory_bytes = number_at(tree, "memory_bytes");
  const auto total = number_at(host, "memory_total_bytes");
  const auto available = number_at(host, "memory_available_bytes");
  constexpr double gib = 1024.0 * 1024.0 * 1024.0;
  return ok({
      {"cpu_usage_percentage", round2(number_at(tree, "cpu_percent_of_core").value_or(0.0))},
      {"memory_usage_percentage", snapshot.is_object() ? memory_percent_of(snapshot).value_or(0.0) : 0.0},
      {"cpu_history", cpu_history},
      {"memory_history", memory_history},
      {"provider", "guardian (" + backend + ")"},
      {"details",
       {{"process_memory_mb", memory_bytes ? json(round2(*memory_bytes / (1024.0 * 1024.0))) : json()},
        {"system_memory_total_gb", total ? json(round2(*total / gib)) : json()},
        {"system_memory_available_gb", available ? json(round2(*available / gib)) : json()},
        {"system_cpu_percent", or_null(number_at(host, "cpu_percent"))},
        {"cpu_cores", std::thread::hardware_concurrency()},
        {"process_threads", or_null(number_at(tree, "threads"))}}},
  });
}

}  // namespace guardian::websocket
