// Telemetry: what the websocket plugin accumulates from the event stream and the snapshot
// feed — alert counts by type and severity, per-server restarts and health-probe latency
// histograms, the tree's CPU seconds — and its Prometheus text exposition (GET /metrics).
// Thread-safe: events arrive on the plugin's worker thread, snapshots on the feed thread,
// scrapes on the server's io thread.
#pragma once

#include <array>
#include <deque>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace guardian::websocket {

// Upper bounds (seconds) of the probe-latency histogram buckets; +Inf is implicit.
inline constexpr std::array<double, 11> kProbeBucketsSeconds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                             0.5,   1.0,  2.5,   5.0,  10.0};
inline constexpr std::size_t kLatencyHistoryPoints = 1800;

class Telemetry {
 public:
  // Alerts ("alert"), server observations ("server"), anything else is ignored.
  void on_event(const nlohmann::json& event);
  // One monitor snapshot (its JSON form), in time order; integrates the tree's CPU time.
  void on_snapshot(const nlohmann::json& snapshot);

  // The exposition for GET /metrics; `status` is the host's status answer (latest snapshot,
  // monitor level, enforcement), `up` is 0 once the run has finished.
  std::string prometheus(const nlohmann::json& status) const;

  // Per server: {"probes", "probes_ok", "uptime_percent", "restarts",
  // "last_probe_latency_ms", "state", "healthy"}. The uptime counts are the core's (the
  // probes since the server was first healthy), so a server that never failed is at 100 %.
  nlohmann::json servers() const;
  // Per server: its recent probe latencies, oldest first: {"time_s": [...], "ms": [...]} (at
  // most kLatencyHistoryPoints: an hour at the 2 s healthy cadence), so a page opened
  // mid-run charts the whole of it, not what arrived since it loaded.
  nlohmann::json latency_history() const;
  double cpu_seconds_total() const;
  std::uint64_t alerts_total() const;

 private:
  struct ServerStats {
    std::string state;
    bool healthy = false;
    std::uint64_t restarts = 0;
    std::uint64_t probes = 0;
    std::uint64_t probes_ok = 0;
    std::array<std::uint64_t, kProbeBucketsSeconds.size()> buckets{};  // non-cumulative
    double latency_sum_seconds = 0;
    std::optional<double> last_latency_ms;
    std::uint64_t uptime_probes = 0;  // the core's counts (see servers())
    std::uint64_t uptime_probes_ok = 0;
    std::deque<std::pair<double, double>> latencies;  // (epoch s, ms)
  };

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> alerts_;  // (type, severity)
  std::map<std::string, ServerStats> servers_;
  double cpu_seconds_ = 0;
  std::optional<double> last_snapshot_epoch_s_;
};

// "2024-05-01T12:00:00.123Z" or "…123+00:00" -> seconds since the epoch; nullopt when it does not parse.
std::optional<double> parse_iso8601_epoch_s(const std::string& text);

// A label value escaped for the text exposition format (\\, \", \n).
std::string escape_label_value(const std::string& value);

}  // namespace guardian::websocket
