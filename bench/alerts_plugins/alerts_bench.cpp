// alerts_bench: alerts/s through the AlertBus (baseline: bus alone; then + journal; then
// + PluginHost with jsonfile, notify and websocket), publish() cost on the caller's
// thread, WebSocket delivery latency p50/p99 with 10 and 100 real clients, and RSS.
// Prints numbers; never asserts speed.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "guardian/alerts/alert_bus.hpp"
#include "guardian/plugins/plugin_host.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using guardian::alerts::AlertBus;
using guardian::alerts::AlertBusOptions;
using guardian::alerts::AlertSpec;
using guardian::alerts::AlertType;

long rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

AlertSpec make_spec(long i) {
  AlertSpec spec;
  spec.type = i % 2 ? AlertType::test_failed : AlertType::resource_warning;
  spec.subject = "subject_" + std::to_string(i);  // distinct keys: every raise is emitted
  spec.title = "bench alert";
  spec.message = "something happened to " + spec.subject;
  spec.source = "bench";
  spec.context = {{"i", i}};
  return spec;
}

struct BurstResult {
  double alerts_per_s = 0;
  double raise_p50_us = 0, raise_p99_us = 0, raise_max_us = 0;
};

BurstResult burst(AlertBus& bus, long count) {
  std::vector<double> per_call_us;
  per_call_us.reserve(static_cast<std::size_t>(count));
  std::vector<AlertSpec> specs;
  specs.reserve(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) specs.push_back(make_spec(i));
  const auto start = Clock::now();
  for (auto& spec : specs) {
    const auto t0 = Clock::now();
    bus.raise(std::move(spec));
    per_call_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(per_call_us.begin(), per_call_us.end());
  BurstResult r;
  r.alerts_per_s = static_cast<double>(count) / seconds;
  r.raise_p50_us = per_call_us[per_call_us.size() / 2];
  r.raise_p99_us = per_call_us[per_call_us.size() * 99 / 100];
  r.raise_max_us = per_call_us.back();
  return r;
}

void print_burst(const char* label, const BurstResult& r) {
  fmt::print("{:<44} {:>10.0f} alerts/s   raise() p50 {:.2f} us  p99 {:.2f} us  max {:.0f} us\n", label,
             r.alerts_per_s, r.raise_p50_us, r.raise_p99_us, r.raise_max_us);
}

guardian::plugins::PluginHostOptions host_options() {
  guardian::plugins::PluginHostOptions options;
  options.search.config_paths = {BENCH_PLUGIN_DIR};
  options.search.use_env_path = options.search.use_build_dir = options.search.use_install_dir = false;
  options.log = [](const std::string&, int, const std::string&) {};
  return options;
}

// Median of runs of the same burst (the machine is shared and noisy).
template <class Make>
BurstResult median_of(int runs, long count, Make make_bus) {
  std::vector<BurstResult> results;
  for (int i = 0; i < runs; ++i) {
    auto bus = make_bus();
    results.push_back(burst(*bus, count));
  }
  std::sort(results.begin(), results.end(),
            [](const BurstResult& a, const BurstResult& b) { return a.alerts_per_s < b.alerts_per_s; });
  return results[results.size() / 2];
}

// Clients are spread over several python processes so that the clients' own CPU time
// (python parses every message) is not what gets measured.
std::string ws_latency(const fs::path& root, int clients, int processes, int events, int rate_per_s) {
  auto options = host_options();
  if (std::getenv("BENCH_VERBOSE")) {
    options.log = [](const std::string& p, int l, const std::string& m) { fmt::print(stderr, "{} {} {}\n", p, l, m); };
  }
  const int ping_ms = std::getenv("BENCH_PING_MS") ? std::atoi(std::getenv("BENCH_PING_MS")) : 20000;
  guardian::plugins::PluginHost host(options);
  const auto port_file = root / ("port_" + std::to_string(clients) + "_" + std::to_string(rate_per_s));
  host.load({{"websocket", {{"port", 0}, {"port_file", port_file.string()}, {"max_clients", 1000}, {"ping_interval_ms", ping_ms}}}});
  std::ifstream port_in(port_file);
  int port = 0;
  port_in >> port;
  if (port == 0) return "websocket plugin did not start";
  std::vector<pid_t> pids;
  std::vector<fs::path> readies, outs;
  for (int p = 0; p < processes; ++p) {
    const auto tag = std::to_string(clients) + "_" + std::to_string(rate_per_s) + "_" + std::to_string(p);
    readies.push_back(root / ("ready_" + tag));
    outs.push_back(root / ("latency_" + tag + ".json"));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::FILE* f = std::freopen(outs.back().c_str(), "w", stdout);
      (void)f;
      const std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/ws";
      ::execl("/usr/bin/python3", "python3", BENCH_WS_CLIENT, url.c_str(), std::to_string(clients / processes).c_str(),
              std::to_string(events).c_str(), readies.back().c_str(), nullptr);
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (const auto& ready : readies) {
    while (!fs::exists(ready) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto interval = std::chrono::microseconds(1'000'000 / rate_per_s);
  auto next = Clock::now();
  for (int i = 0; i < events; ++i) {
    std::this_thread::sleep_until(next);
    next += interval;
    const long sent_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    host.publish({{"kind", "alert"}, {"ts", "t"}, {"run_id", "bench"}, {"seq", i}, {"sent_ns", sent_ns},
                  {"alert", {{"type", "TEST_FAILED"}, {"severity", "warning"}, {"title", "bench"}}}});
  }
  std::vector<double> latencies;
  for (std::size_t p = 0; p < pids.size(); ++p) {
    int status = 0;
    bool done = false;
    while (Clock::now() < deadline + std::chrono::seconds(60)) {
      if (::waitpid(pids[p], &status, WNOHANG) == pids[p]) {
        done = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!done) {
      ::kill(pids[p], SIGKILL);
      ::waitpid(pids[p], &status, 0);
      return "clients did not finish";
    }
    std::ifstream in(outs[p]);
    const auto values = nlohmann::json::parse(in, nullptr, false);
    if (!values.is_array()) return "a client process printed no latencies";
    for (const auto& v : values) latencies.push_back(v.get<double>());
  }
  host.shutdown(std::chrono::seconds(2));
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) { return latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(q * latencies.size()))]; };
  return fmt::format("{} messages  p50 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms", latencies.size(), pct(0.5),
                     pct(0.99), latencies.back());
}

}  // namespace

int main() {
  const bool skip_bus = std::getenv("BENCH_WS_ONLY") != nullptr;
  const fs::path root = fs::temp_directory_path() / ("guardian-alerts-bench-" + std::to_string(::getpid()));
  fs::create_directories(root);
  constexpr long count = 100'000;
  fmt::print("alerts_bench: {} distinct alerts per burst, median of 3 bursts\n\n", count);

  if (!skip_bus) {
  print_burst("bus only (no journal, no plugins)", median_of(3, count, [] {
                return std::make_unique<AlertBus>(AlertBusOptions{});
              }));
  int run = 0;
  print_burst("bus + alerts.jsonl journal", median_of(3, count, [&] {
                AlertBusOptions o;
                o.run_dir = root / ("journal_" + std::to_string(run++));
                return std::make_unique<AlertBus>(o);
              }));

  const long rss_before = rss_kib();
  {
    guardian::plugins::PluginHost host(host_options());
    const auto results =
        host.load({{"jsonfile", {{"directory", (root / "files").string()}, {"max_files", 1000}}},
                   {"notify", nlohmann::json::object()},
                   {"websocket", {{"port", 0}}}});
    std::string loaded;
    for (const auto& r : results) loaded += fmt::format(" {}={}", r.name, guardian::plugins::to_string(r.status));
    const long rss_loaded = rss_kib();
    AlertBusOptions o;
    o.run_dir = root / "journal_plugins";
    AlertBus bus(o);
    bus.subscribe([&](const nlohmann::json& event) { host.publish(event); });
    const auto r = burst(bus, count);
    print_burst("bus + journal + jsonfile, notify, websocket", r);
    const long rss_after = rss_kib();
    const auto drain_deadline = Clock::now() + std::chrono::seconds(20);
    auto all_drained = [&] {
      const auto all_stats = host.stats();
      for (const auto& [name, stats] : all_stats.items()) {
        if (stats["queued"] != 0 || !stats["busy_ms"].is_null()) return false;
      }
      return true;
    };
    while (!all_drained() && Clock::now() < drain_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fmt::print("  plugins:{}\n", loaded);
    const auto final_stats = host.stats();
    for (const auto& [name, stats] : final_stats.items()) {
      fmt::print("  {:<10} delivered {:>6}  dropped {:>6} (queue of 1024 drops the oldest)  mean call {} us  max {} us\n",
                 name, stats["delivered"].get<long>(), stats["dropped"].get<long>(), stats["mean_call_us"].get<long>(),
                 stats["max_call_us"].get<long>());
    }
    host.shutdown(std::chrono::seconds(5));
    fmt::print("RSS: {} KiB before plugins, {} KiB with the three loaded (+{}), {} KiB after the burst\n\n",
               rss_before, rss_loaded, rss_loaded - rss_before, rss_after);
  }
  }

  fmt::print("WebSocket delivery latency (publish() -> client recv, python3-websockets clients):\n");
  const int only = std::getenv("BENCH_WS_ONLY") ? std::atoi(std::getenv("BENCH_WS_ONLY")) : -1;
  int index = 0;
  for (auto [clients, processes, rate] : {std::tuple{10, 1, 200}, std::tuple{100, 4, 200}, std::tuple{100, 4, 50}}) {
    if (only >= 0 && index++ != only) continue;
    fmt::print("  {:>3} clients in {} processes, 2000 events at {:>3}/s: {}\n", clients, processes, rate,
               ws_latency(root, clients, processes, 2000, rate));
  }
  fs::remove_all(root);
  return 0;
}
