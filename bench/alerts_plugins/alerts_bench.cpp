// alerts_bench: alerts/s through the AlertBus (baseline: bus alone; then + journal; then
// + PluginRunner with jsonfile, notify and websocket), publish() cost on the caller's
// thread, WebSocket delivery latency p50/p99 with 10 and 100 real clients at 50 and 200
// events/s (C++ clients, alerts_ws_latency.cpp, and python3-websockets clients in the same
// run), and RSS.
// Prints numbers; never asserts speed.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "guardian/alerts/alert_bus.hpp"
#include "guardian/plugins/plugin_runner.hpp"

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

guardian::plugins::PluginRunnerOptions host_options() {
  guardian::plugins::PluginRunnerOptions options;
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

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " " + five;
}

// Which program plays the clients: the C++ one (one process, one io_context thread; its own
// CPU time is small) or python3-websockets (the original comparison; several processes so
// that Python's per-message cost is spread over both cores).
enum class ClientKind { cpp, python };

// Latency from publish() to each client's receipt of each event, in ms, and the CPU time
// the client processes used (from wait4), or an error.
struct LatencyRun {
  std::vector<double> latencies_ms;
  double clients_cpu_s = 0;
  std::string error;
};

LatencyRun ws_latency(const fs::path& root, ClientKind kind, int clients, int processes, int events,
                      int rate_per_s) {
  LatencyRun result;
  auto options = host_options();
  if (std::getenv("BENCH_VERBOSE")) {
    options.log = [](const std::string& p, int l, const std::string& m) { fmt::print(stderr, "{} {} {}\n", p, l, m); };
  }
  const int ping_ms = std::getenv("BENCH_PING_MS") ? std::atoi(std::getenv("BENCH_PING_MS")) : 20000;
  guardian::plugins::PluginRunner host(options);
  const std::string run_tag = std::string(kind == ClientKind::cpp ? "cpp" : "py") + "_" + std::to_string(clients) +
                              "_" + std::to_string(rate_per_s);
  const auto port_file = root / ("port_" + run_tag);
  host.load({{"websocket", {{"port", 0}, {"port_file", port_file.string()}, {"max_clients", 1000}, {"ping_interval_ms", ping_ms}}}});
  std::ifstream port_in(port_file);
  int port = 0;
  port_in >> port;
  if (port == 0) {
    result.error = "websocket plugin did not start";
    return result;
  }
  std::vector<pid_t> pids;
  std::vector<fs::path> readies, outs;
  for (int p = 0; p < processes; ++p) {
    const auto tag = run_tag + "_" + std::to_string(p);
    readies.push_back(root / ("ready_" + tag));
    outs.push_back(root / ("latency_" + tag + ".json"));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::FILE* f = std::freopen(outs.back().c_str(), "w", stdout);
      (void)f;
      const std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/ws";
      const std::string n = std::to_string(clients / processes), count = std::to_string(events);
      if (kind == ClientKind::cpp) {
        ::execl(BENCH_WS_CPP_CLIENT, "alerts_ws_latency", url.c_str(), n.c_str(), count.c_str(),
                readies.back().c_str(), nullptr);
      } else {
        ::execl("/usr/bin/python3", "python3", BENCH_WS_CLIENT, url.c_str(), n.c_str(), count.c_str(),
                readies.back().c_str(), nullptr);
      }
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
  const auto finish_deadline = Clock::now() + std::chrono::seconds(60);
  for (std::size_t p = 0; p < pids.size(); ++p) {
    int status = 0;
    rusage usage{};
    bool done = false;
    while (Clock::now() < finish_deadline) {
      if (::wait4(pids[p], &status, WNOHANG, &usage) == pids[p]) {
        done = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!done) {
      ::kill(pids[p], SIGKILL);
      ::waitpid(pids[p], &status, 0);
      result.error = "clients did not finish";
      return result;
    }
    result.clients_cpu_s += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::ifstream in(outs[p]);
    const auto values = nlohmann::json::parse(in, nullptr, false);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !values.is_array()) {
      result.error = "a client process failed or printed no latencies";
      return result;
    }
    for (const auto& v : values) result.latencies_ms.push_back(v.get<double>());
  }
  host.shutdown(std::chrono::seconds(2));
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  return result;
}

std::string describe(const LatencyRun& run, double seconds) {
  if (!run.error.empty()) return run.error;
  const auto& l = run.latencies_ms;
  if (l.empty()) return "no latencies";
  auto pct = [&](double q) { return l[std::min(l.size() - 1, static_cast<std::size_t>(q * static_cast<double>(l.size())))]; };
  return fmt::format("{:>6} msgs  p50 {:6.2f} ms  p99 {:6.2f} ms  max {:6.2f} ms  clients' CPU {:5.2f} s ({:3.0f} % of a core)",
                     l.size(), pct(0.5), pct(0.99), l.back(), run.clients_cpu_s, 100.0 * run.clients_cpu_s / seconds);
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
    guardian::plugins::PluginRunner host(host_options());
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

  // Every configuration with both kinds of client back to back, so both see the same
  // machine. BENCH_WS_ONLY=<i> skips the bus part and runs configuration i only (-1: all);
  // BENCH_WS_CLIENTS=cpp or python runs one kind; BENCH_WS_EVENTS sets events per run.
  const int events = std::getenv("BENCH_WS_EVENTS") ? std::atoi(std::getenv("BENCH_WS_EVENTS")) : 2000;
  const std::string kinds = std::getenv("BENCH_WS_CLIENTS") ? std::getenv("BENCH_WS_CLIENTS") : "cpp,python";
  fmt::print("WebSocket delivery latency, publish() -> client recv, {} events per run\n", events);
  fmt::print("  C++ clients: one process, one io_context thread; python3-websockets: 1 process for 10 clients, 4 for 100\n");
  const int only = std::getenv("BENCH_WS_ONLY") ? std::atoi(std::getenv("BENCH_WS_ONLY")) : -1;
  int index = 0;
  for (auto [clients, rate] : {std::tuple{10, 50}, std::tuple{10, 200}, std::tuple{100, 50}, std::tuple{100, 200}}) {
    if (only >= 0 && index++ != only) continue;
    for (const auto kind : {ClientKind::cpp, ClientKind::python}) {
      const bool cpp = kind == ClientKind::cpp;
      if (kinds.find(cpp ? "cpp" : "python") == std::string::npos) continue;
      const std::string load_before = load_average();
      const auto t0 = Clock::now();
      const auto run = ws_latency(root, kind, clients, cpp ? 1 : (clients >= 100 ? 4 : 1), events, rate);
      const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      fmt::print("  {:<6} {:>3} clients {:>3} ev/s  load {} -> {}: {}\n", cpp ? "C++" : "python", clients, rate,
                 load_before, load_average(), describe(run, seconds));
      std::fflush(stdout);
    }
  }
  fs::remove_all(root);
  return 0;
}
