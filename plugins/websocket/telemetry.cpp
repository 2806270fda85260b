#include "telemetry.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>

namespace guardian::websocket {
namespace {

// Prometheus floats: integers without a fraction, the rest with enough digits to round-trip.
std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
  }
  for (int precision = 6; precision <= 17; ++precision) {  // the shortest that round-trips
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

class Exposition {
 public:
  // HELP and TYPE once per family, before its samples.
  void family(const std::string& name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << number(value) << '\n';
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string label(const std::string& name, const std::string& value) {
  return name + "=\"" + escape_label_value(value) + "\"";
}

double json_number(const nlohmann::json& object, const char* key, double fallback = NAN) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

int level_number(const std::string& level) {
  if (level == "IDLE") return 0;
  if (level == "NORMAL") return 1;
  if (level == "INTENSIVE") return 2;
  if (level == "CRITICAL") return 3;
  return -1;
}

}  // namespace

std::optional<double> parse_iso8601_epoch_s(const std::string& text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  double second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lf%n", &year, &month, &day, &hour, &minute, &second, &consumed) != 6)
    return std::nullopt;
  // "Z" or a "+hh:mm" / "-hh:mm" offset.
  double offset_s = 0;
  const std::string zone = text.substr(static_cast<std::size_t>(consumed));
  if (zone != "Z") {
    int offset_h = 0, offset_m = 0;
    char sign = 0;
    if (std::sscanf(zone.c_str(), "%c%d:%d", &sign, &offset_h, &offset_m) != 3 || (sign != '+' && sign != '-'))
      return std::nullopt;
    offset_s = (sign == '-' ? -1 : 1) * (offset_h * 3600.0 + offset_m * 60.0);
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = 0;
  return static_cast<double>(timegm(&tm)) + second - offset_s;
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Telemetry::on_event(const nlohmann::json& event) {
  const std::string kind = event.value("kind", "");
  std::lock_guard lock(mutex_);
  if (kind == "alert" && event.contains("alert")) {
    const auto& alert = event["alert"];
    ++alerts_[{alert.value("type", "UNKNOWN"), alert.value("severity", "unknown")}];
  } else if (kind == "server") {
    auto& server = servers_[event.value("server", "")];
    server.state = event.value("state", "");
    server.healthy = event.value("healthy", false);
    if (event.contains("restarts") && event["restarts"].is_number_integer() && event["restarts"].get<std::int64_t>() >= 0)
      server.restarts = std::max(server.restarts, event["restarts"].get<std::uint64_t>());
    const auto count = [&](const char* key) -> std::optional<std::uint64_t> {
      if (!event.contains(key) || !event[key].is_number_integer() || event[key].get<std::int64_t>() < 0) return {};
      return event[key].get<std::uint64_t>();
    };
    if (auto probes = count("probes"), ok = count("probes_ok"); probes && ok) {
      server.uptime_probes = *probes;
      server.uptime_probes_ok = *ok;
    }
    const auto& probe = event.contains("probe") ? event["probe"] : nlohmann::json();
    if (probe.is_object() && probe.contains("latency_ms")) {
      const double latency_ms = json_number(probe, "latency_ms", 0);
      const double seconds = latency_ms / 1000.0;
      ++server.probes;
      if (probe.value("ok", false)) ++server.probes_ok;
      server.latency_sum_seconds += seconds;
      server.last_latency_ms = latency_ms;
      const double now_s =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      server.latencies.emplace_back(parse_iso8601_epoch_s(event.value("ts", "")).value_or(now_s), latency_ms);
      if (server.latencies.size() > kLatencyHistoryPoints) server.latencies.pop_front();
      for (std::size_t i = 0; i < kProbeBucketsSeconds.size(); ++i) {
        if (seconds <= kProbeBucketsSeconds[i]) {
          ++server.buckets[i];
          break;
        }
      }
    }
  }
}

void Telemetry::on_snapshot(const nlohmann::json& snapshot) {
  const auto epoch = parse_iso8601_epoch_s(snapshot.value("time", ""));
  if (!epoch) return;
  std::lock_guard lock(mutex_);
  if (last_snapshot_epoch_s_ && *epoch <= *last_snapshot_epoch_s_) return;  // seen already
  // cpu_percent_of_core covers the interval since the previous check.
  const double percent = json_number(snapshot.value("tree", nlohmann::json::object()), "cpu_percent_of_core");
  if (last_snapshot_epoch_s_ && !std::isnan(percent))
    cpu_seconds_ += percent / 100.0 * (*epoch - *last_snapshot_epoch_s_);
  last_snapshot_epoch_s_ = epoch;
}

double Telemetry::cpu_seconds_total() const {
  std::lock_guard lock(mutex_);
  return cpu_seconds_;
}

std::uint64_t Telemetry::alerts_total() const {
  std::lock_guard lock(mutex_);
  std::uint64_t total = 0;
  for (const auto& [key, count] : alerts_) total += count;
  return total;
}

nlohmann::json Telemetry::servers() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, s] : servers_) {
    // The core's counts when it sends them; else every probe seen (an older core).
    const bool from_core = s.uptime_probes > 0;
    const std::uint64_t probes = from_core ? s.uptime_probes : s.probes;
    const std::uint64_t ok = from_core ? s.uptime_probes_ok : s.probes_ok;
    out[name] = {{"state", s.state},
                 {"healthy", s.healthy},
                 {"restarts", s.restarts},
                 {"probes", probes},
                 {"probes_ok", ok},
                 {"uptime_percent", probes ? nlohmann::json(100.0 * static_cast<double>(ok) / static_cast<double>(probes))
                                           : nlohmann::json()},
                 {"last_probe_latency_ms", s.last_latency_ms ? nlohmann::json(*s.last_latency_ms) : nlohmann::json()}};
  }
  return out;
}

nlohmann::json Telemetry::latency_history() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, s] : servers_) {
    auto times = nlohmann::json::array();
    auto ms = nlohmann::json::array();
    for (const auto& [t, latency] : s.latencies) {
      times.push_back(std::round(t * 1000.0) / 1000.0);
      ms.push_back(latency);
    }
    out[name] = {{"time_s", std::move(times)}, {"ms", std::move(ms)}};
  }
  return out;
}

std::string Telemetry::prometheus(const nlohmann::json& status) const {
  Exposition e;
  const bool finished = status.value("state", "") == "finished";
  const auto snapshot = status.contains("latest_snapshot") ? status["latest_snapshot"] : nlohmann::json();
  const auto tree = snapshot.is_object() ? snapshot.value("tree", nlohmann::json::object()) : nlohmann::json::object();
  const auto host = snapshot.is_object() ? snapshot.value("host", nlohmann::json::object()) : nlohmann::json::object();

  e.family("guardian_up", "gauge", "1 while guardian supervises the run, 0 once it has finished.");
  e.sample("guardian_up", "", finished ? 0 : 1);

  std::string backend = "unknown";
  if (status.contains("enforcement") && status["enforcement"].is_object())
    backend = status["enforcement"].value("backend", "unknown");
  e.family("guardian_run_info", "gauge", "The supervised run (always 1): run id, mode and enforcement backend.");
  e.sample("guardian_run_info", label("run_id", status.value("run_id", "")) + "," +
                                    label("mode", status.value("mode", "")) + "," + label("backend", backend),
           1);

  std::unique_lock lock(mutex_);
  e.family("guardian_tree_cpu_seconds_total", "counter", "CPU time used by the supervised process tree.");
  e.sample("guardian_tree_cpu_seconds_total", "", cpu_seconds_);
  lock.unlock();

  if (const double ratio = json_number(tree, "cpu_percent_of_ceiling"); !std::isnan(ratio)) {
    e.family("guardian_tree_cpu_usage_ratio", "gauge", "CPU use of the tree as a fraction of its CPU ceiling (1 = at the ceiling).");
    e.sample("guardian_tree_cpu_usage_ratio", "", ratio / 100.0);
  }
  if (const double cores = json_number(tree, "cpu_ceiling_cores"); !std::isnan(cores)) {
    e.family("guardian_tree_cpu_ceiling_cores", "gauge", "CPU ceiling of the tree in cores (the machine's when nothing is enforced).");
    e.sample("guardian_tree_cpu_ceiling_cores", "", cores);
  }
  if (const double bytes = json_number(tree, "memory_bytes"); !std::isnan(bytes)) {
    e.family("guardian_tree_memory_bytes", "gauge", "Resident memory of the supervised process tree.");
    e.sample("guardian_tree_memory_bytes", "", bytes);
  }
  if (const double bytes = json_number(tree, "memory_ceiling_bytes"); !std::isnan(bytes)) {
    e.family("guardian_tree_memory_ceiling_bytes", "gauge", "Memory ceiling of the tree (the machine's memory when nothing is enforced).");
    e.sample("guardian_tree_memory_ceiling_bytes", "", bytes);
  }
  if (const double n = json_number(tree, "processes"); !std::isnan(n)) {
    e.family("guardian_tree_processes", "gauge", "Processes in the supervised tree.");
    e.sample("guardian_tree_processes", "", n);
  }
  if (const double n = json_number(tree, "threads"); !std::isnan(n)) {
    e.family("guardian_tree_threads", "gauge", "Threads in the supervised tree.");
    e.sample("guardian_tree_threads", "", n);
  }
  if (const double n = json_number(host, "memory_available_bytes"); !std::isnan(n)) {
    e.family("guardian_host_memory_available_bytes", "gauge", "Memory available on the machine.");
    e.sample("guardian_host_memory_available_bytes", "", n);
  }
  if (status.contains("monitor") && status["monitor"].is_object()) {
    const int level = level_number(status["monitor"].value("level", ""));
    if (level >= 0) {
      e.family("guardian_monitor_level", "gauge", "Monitor level: 0 IDLE, 1 NORMAL, 2 INTENSIVE, 3 CRITICAL.");
      e.sample("guardian_monitor_level", "", level);
    }
  }

  lock.lock();
  e.family("guardian_alerts_total", "counter", "Alerts emitted during the run, by type and severity.");
  for (const auto& [key, count] : alerts_)
    e.sample("guardian_alerts_total", label("type", key.first) + "," + label("severity", key.second),
             static_cast<double>(count));

  if (!servers_.empty()) {
    e.family("guardian_server_up", "gauge", "1 while the dev server is healthy.");
    for (const auto& [name, s] : servers_) e.sample("guardian_server_up", label("server", name), s.healthy ? 1 : 0);
    e.family("guardian_server_restarts_total", "counter", "Restarts of the dev server.");
    for (const auto& [name, s] : servers_)
      e.sample("guardian_server_restarts_total", label("server", name), static_cast<double>(s.restarts));
    e.family("guardian_server_probe_duration_seconds", "histogram", "Duration of the dev server's health probes.");
    for (const auto& [name, s] : servers_) {
      const std::string server = label("server", name);
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < kProbeBucketsSeconds.size(); ++i) {
        cumulative += s.buckets[i];
        e.sample("guardian_server_probe_duration_seconds_bucket",
                 server + "," + label("le", number(kProbeBucketsSeconds[i])), static_cast<double>(cumulative));
      }
      e.sample("guardian_server_probe_duration_seconds_bucket", server + ",le=\"+Inf\"", static_cast<double>(s.probes));
      e.sample("guardian_server_probe_duration_seconds_sum", server, s.latency_sum_seconds);
      e.sample("guardian_server_probe_duration_seconds_count", server, static_cast<double>(s.probes));
    }
  }
  return e.text();
}

}  // namespace guardian::websocket
