// The status API, /metrics and a real Prometheus against the websocket plugin in a real
// `guardian run` (with a dev server that crashes on demand), through a real HTTP client.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "support/guardian_run.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::testing::FetchSpec;
using guardian::testing::GuardianRun;
using guardian::testing::Subprocess;
using guardian::testing::wait_until;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kToken = "s3cret-token";

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Waits until the run has at least `n` snapshots in the ring.
bool wait_for_snapshots(const GuardianRun& run, std::size_t n) {
  return wait_until(
      [&] {
        auto r = run.get("/api/monitoring/snapshots/recent?minutes=10");
        return r.status == 200 && r.json()["count"].get<std::size_t>() >= n;
      },
      60s);
}

class StatusApiTest : public ::testing::Test {
 protected:
  std::unique_ptr<GuardianRun> start(bool with_server, std::string extra = "") {
    auto run = std::make_unique<GuardianRun>(GuardianRun::Options{kToken, with_server, std::move(extra), {}});
    EXPECT_TRUE(run->wait_ready()) << run->output();
    return run;
  }
};

TEST_F(StatusApiTest, EveryEndpointAnswersWithItsDocumentedSchema) {
  auto run = start(/*with_server=*/true);
  ASSERT_TRUE(wait_for_snapshots(*run, 4)) << run->output();
  const std::string auth = run->auth_header();
  auto r = run->fetch({{"/api/monitoring/health", "health.schema.json", auth},
                       {"/api/monitoring/status", "status.schema.json", auth},
                       {"/api/monitoring/alerts/active", "alerts_active.schema.json", auth},
                       {"/api/monitoring/snapshots/recent?minutes=10", "snapshots_recent.schema.json", auth},
                       {"/api/monitoring/infra/metrics", "infra_metrics.schema.json", auth}});
  ASSERT_EQ(r.size(), 5u);
  for (const auto& f : r) {
    EXPECT_EQ(f.status, 200) << f.body;
    EXPECT_EQ(f.content_type, "application/json");
    EXPECT_TRUE(f.schema_errors.empty()) << joined(f.schema_errors) << f.body;
  }
  const json health = r[0].json();
  EXPECT_EQ(health["cpu"]["warning_percent"], 70) << "dev mode's defaults";
  EXPECT_EQ(health["cpu"]["critical_percent"], 85);
  EXPECT_EQ(health["memory"]["warning_percent"], 75);
  EXPECT_GT(health["memory"]["bytes"].get<double>(), 0);
  EXPECT_NE(health["status"], "unknown");

  const json status = r[1].json();
  EXPECT_EQ(status["run"]["command"], json({"sleep", "120"}));
  EXPECT_EQ(status["run"]["state"], "running");
  EXPECT_EQ(status["run"]["mode"], "dev");
  EXPECT_FALSE(status["backend"].is_null()) << status.dump();
  EXPECT_EQ(status["servers"]["api"]["healthy"], true) << status.dump();
  EXPECT_EQ(status["servers"]["api"]["state"], "running");
  EXPECT_GT(status["servers"]["api"]["probes"].get<int>(), 0);
  EXPECT_GE(status["servers"]["api"]["last_probe_latency_ms"].get<double>(), 0);

  const json snapshots = r[3].json();
  EXPECT_EQ(snapshots["count"], snapshots["snapshots"].size());
  EXPECT_GE(snapshots["count"].get<int>(), 4);
  EXPECT_EQ(snapshots["capacity"], 1000);

  const json infra = r[4].json();
  EXPECT_GE(infra["cpu_history"].size(), 1u);
  EXPECT_LE(infra["cpu_history"].size(), 12u) << "12 points by default, like the original endpoint";
  EXPECT_EQ(infra["cpu_history"].size(), infra["memory_history"].size());
  EXPECT_GT(infra["details"]["process_memory_mb"].get<double>(), 0);
  EXPECT_GT(infra["details"]["system_memory_total_gb"].get<double>(), 0);
}

TEST_F(StatusApiTest, EveryDataRouteNeedsTheTokenAndTheDashboardDoesNot) {
  auto run = start(false);
  const std::vector<std::string> paths{"/api/monitoring/health", "/api/monitoring/status",
                                       "/api/monitoring/alerts/active", "/api/monitoring/snapshots/recent",
                                       "/api/monitoring/infra/metrics", "/metrics", "/api/status"};
  std::vector<FetchSpec> specs;
  for (const auto& p : paths) specs.push_back({p, "error.schema.json", ""});                   // none
  for (const auto& p : paths) specs.push_back({p, "error.schema.json", "Bearer wrong"});       // wrong
  for (const auto& p : paths) specs.push_back({p, "", "Bearer " + kToken});                    // header
  for (const auto& p : paths) specs.push_back({p + "?token=" + kToken, "", ""});               // query
  specs.push_back({"/", "", ""});
  specs.push_back({"/assets/app.js", "", ""});
  auto r = run->fetch(specs);
  const std::size_t n = paths.size();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(r[i].status, 401) << paths[i];
    EXPECT_TRUE(r[i].schema_errors.empty()) << joined(r[i].schema_errors);
    EXPECT_EQ(r[n + i].status, 401) << paths[i];
    EXPECT_EQ(r[2 * n + i].status, 200) << paths[i] << r[2 * n + i].body;
    // A query parameter the route does not take is a 400; the token is the API's own.
    EXPECT_EQ(r[3 * n + i].status, 200) << paths[i] << r[3 * n + i].body;
  }
  EXPECT_EQ(r[4 * n].status, 200);
  EXPECT_EQ(r[4 * n].content_type, "text/html; charset=utf-8");
  EXPECT_NE(r[4 * n].body.find("<title>guardian</title>"), std::string::npos);
  EXPECT_EQ(r[4 * n + 1].content_type, "text/javascript; charset=utf-8");
}

TEST_F(StatusApiTest, BadPathsAndParametersAreJsonErrorsAndNothingCanBeChanged) {
  auto run = start(false);
  const std::string auth = run->auth_header();
  auto r = run->fetch({
      {"/api/monitoring/nope", "error.schema.json", auth},
      {"/api/monitoring/snapshots/recent?minutes=0", "error.schema.json", auth},
      {"/api/monitoring/snapshots/recent?minutes=abc", "error.schema.json", auth},
      {"/api/monitoring/snapshots/recent?minutes=1441", "error.schema.json", auth},
      {"/api/monitoring/snapshots/recent?minutes=-5", "error.schema.json", auth},
      {"/api/monitoring/snapshots/recent?limit=0", "error.schema.json", auth},
      {"/api/monitoring/alerts/active?limit=501", "error.schema.json", auth},
      {"/api/monitoring/status?verbose=1", "error.schema.json", auth},
      {"/api/monitoring/infra/metrics?points=x", "error.schema.json", auth},
      {"/api/monitoring/status", "error.schema.json", auth, "POST"},
      {"/api/monitoring/alerts/active", "error.schema.json", auth, "DELETE"},
      {"/metrics", "error.schema.json", auth, "PUT"},
  });
  EXPECT_EQ(r[0].status, 404);
  for (int i = 1; i <= 8; ++i) EXPECT_EQ(r[i].status, 400) << i << " " << r[i].body;
  EXPECT_EQ(r[1].json()["parameter"], "minutes");
  EXPECT_NE(r[1].json()["error"].get<std::string>().find("from 1 to 1440"), std::string::npos) << r[1].body;
  EXPECT_EQ(r[5].json()["parameter"], "limit");
  EXPECT_EQ(r[7].json()["parameter"], "verbose");
  for (int i = 9; i <= 11; ++i) EXPECT_EQ(r[i].status, 405) << i;
  for (const auto& f : r) {
    EXPECT_EQ(f.content_type, "application/json");
    EXPECT_TRUE(f.schema_errors.empty()) << joined(f.schema_errors) << f.body;
  }
}

TEST_F(StatusApiTest, WindowsAndLimitsBoundWhatIsReturned) {
  auto run = start(false);
  ASSERT_TRUE(wait_for_snapshots(*run, 6)) << run->output();
  const std::string auth = run->auth_header();
  auto r = run->fetch({{"/api/monitoring/snapshots/recent?minutes=10&limit=2", "snapshots_recent.schema.json", auth},
                       {"/api/monitoring/snapshots/recent?minutes=10", "snapshots_recent.schema.json", auth},
                       {"/api/monitoring/infra/metrics?points=3", "infra_metrics.schema.json", auth},
                       {"/api/monitoring/infra/metrics?points=1", "infra_metrics.schema.json", auth}});
  const json two = r[0].json();
  const json all = r[1].json();
  ASSERT_EQ(two["count"], 2);
  ASSERT_GE(all["count"].get<int>(), 6);
  // limit keeps the newest (asked first, so they are in the full window fetched after), oldest first.
  std::set<std::string> times;
  for (const auto& s : all["snapshots"]) times.insert(s["time"].get<std::string>());
  EXPECT_TRUE(times.count(two["snapshots"][1]["time"].get<std::string>()));
  EXPECT_LT(two["snapshots"][0]["time"].get<std::string>(), two["snapshots"][1]["time"].get<std::string>());
  EXPECT_LT(all["snapshots"][0]["time"].get<std::string>(), two["snapshots"][0]["time"].get<std::string>());
  EXPECT_EQ(r[2].json()["cpu_history"].size(), 3u);
  ASSERT_EQ(r[3].json()["cpu_history"].size(), 1u);
  EXPECT_GE(r[3].json()["cpu_history"][0]["timestamp"].get<std::string>(),
            all["snapshots"][all["count"].get<int>() - 1]["time"].get<std::string>())
      << "a single point is the newest";
}

TEST_F(StatusApiTest, ACrashedServerIsAnActiveAlertUntilItIsBackAndRestartsAreCounted) {
  auto run = start(true);
  run->crash_server(/*held=*/true);
  ASSERT_TRUE(wait_until(
      [&] {
        auto j = run->get("/api/monitoring/alerts/active").json();
        for (const auto& a : j["active"])
          if (a["type"] == "SERVER_DOWN" && a["subject"] == "api") return true;
        return false;
      },
      60s))
      << run->output();
  run->release_server();
  // Restarted and healthy again: SERVER_UP resolves it, so nothing critical stays active.
  ASSERT_TRUE(wait_until(
      [&] {
        auto j = run->get("/api/monitoring/alerts/active").json();
        return j["active"].empty() && j["recent"].size() >= 2 && j["recent"][0]["type"] == "SERVER_UP";
      },
      60s))
      << run->output();
  auto r = run->fetch({{"/api/monitoring/alerts/active?limit=1", "alerts_active.schema.json", run->auth_header()},
                       {"/api/monitoring/status", "status.schema.json", run->auth_header()}});
  EXPECT_EQ(r[0].json()["recent"].size(), 1u);
  EXPECT_EQ(r[0].json()["recent"][0]["type"], "SERVER_UP") << "newest first";
  EXPECT_TRUE(r[1].schema_errors.empty()) << joined(r[1].schema_errors);
  const json status = r[1].json();
  EXPECT_EQ(status["servers"]["api"]["restarts"], 1) << status.dump();
  EXPECT_EQ(status["alerts"]["by_type"]["SERVER_DOWN"], 1);
  EXPECT_LT(status["servers"]["api"]["uptime_percent"].get<double>(), 100.0) << "the failed probe counts";
}

TEST_F(StatusApiTest, TheProtectorsActionsShowInTheStatus) {
  // A spinner under the command (never the command itself) at a low share qualifies at once.
  const std::string target = std::string(TEST_PROJECT_BINARY_DIR) + "/tests/target/guardian-target";
  GuardianRun run(GuardianRun::Options{
      kToken, false,
      "[thresholds]\ncpu_warning = \"5%\"\ncpu_critical = \"99%\"\n"
      "[protector]\ncpu_share = \"5%\"\npersistence = 3\ngrace = \"1s\"\nkill_after = \"1s\"\n",
      {"/bin/sh", "-c", "\"" + target + "\" spin 1 60; true"}});
  ASSERT_TRUE(run.wait_ready()) << run.output();
  json status;
  ASSERT_TRUE(wait_until(
      [&] {
        status = run.get("/api/monitoring/status").json();
        return status["protector"]["actions"].value("reniced", 0) >= 1;
      },
      60s))
      << status.dump() << run.output();
  const auto r = run.get("/api/monitoring/status", "status.schema.json");
  EXPECT_TRUE(r.schema_errors.empty()) << joined(r.schema_errors) << r.body;
  EXPECT_EQ(status["protector"]["mode"], "renice");
}

// ---- /metrics ---------------------------------------------------------------------------

std::string promtool_check(const std::string& text, const fs::path& dir) {
  const fs::path file = dir / "metrics.txt";
  std::ofstream(file) << text;
  Subprocess check({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "'"}, dir);
  const auto status = check.wait(60s);
  if (!status) return "promtool did not finish";
  if (WEXITSTATUS(*status) != 0) return "promtool: " + check.stdout_text() + check.stderr_text();
  return "";
}

double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST_F(StatusApiTest, MetricsPassPromtoolAndCountRestartsProbesAndAlerts) {
  auto run = start(true);
  run->crash_server();
  ASSERT_TRUE(wait_until(
      [&] {
        auto m = run->get("/metrics");
        return sample(m.body, "guardian_server_restarts_total{server=\"api\"}") >= 1 &&
               sample(m.body, "guardian_server_up{server=\"api\"}") == 1;
      },
      60s))
      << run->get("/metrics").body << run->output();
  const auto metrics = run->get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(promtool_check(metrics.body, run->dir()), "") << metrics.body;
  const std::string& m = metrics.body;
  for (const char* family :
       {"guardian_up", "guardian_tree_cpu_seconds_total", "guardian_tree_cpu_usage_ratio", "guardian_tree_memory_bytes",
        "guardian_tree_memory_ceiling_bytes", "guardian_tree_processes", "guardian_monitor_level",
        "guardian_alerts_total", "guardian_server_restarts_total", "guardian_server_probe_duration_seconds"}) {
    EXPECT_NE(m.find(std::string("# TYPE ") + family + " "), std::string::npos) << family << "\n" << m;
  }
  EXPECT_EQ(sample(m, "guardian_up"), 1);
  EXPECT_GT(sample(m, "guardian_tree_memory_bytes"), 0);
  EXPECT_GE(sample(m, "guardian_tree_cpu_seconds_total"), 0);
  EXPECT_EQ(sample(m, "guardian_alerts_total{type=\"SERVER_DOWN\",severity=\"critical\"}"), 1) << m;
  EXPECT_EQ(sample(m, "guardian_alerts_total{type=\"SERVER_UP\",severity=\"info\"}"), 1) << m;
  const double count = sample(m, "guardian_server_probe_duration_seconds_count{server=\"api\"}");
  EXPECT_GT(count, 2);
  EXPECT_EQ(sample(m, "guardian_server_probe_duration_seconds_bucket{server=\"api\",le=\"+Inf\"}"), count);
  EXPECT_GE(sample(m, "guardian_monitor_level"), 0);
}

TEST_F(StatusApiTest, TreeCpuSecondsFollowABusyCommand) {
  GuardianRun run(GuardianRun::Options{kToken, false, "", {std::string(TEST_PROJECT_BINARY_DIR) +
                                                                  "/tests/target/guardian-target",
                                                              "spin", "1", "60"}});
  ASSERT_TRUE(run.wait_ready()) << run.output();
  // One busy thread for ~1.5 s of snapshots: the counter moves by roughly that.
  ASSERT_TRUE(wait_until([&] { return sample(run.get("/metrics").body, "guardian_tree_cpu_seconds_total") > 1.0; },
                         60s))
      << run.get("/metrics").body;
  const auto m = run.get("/metrics").body;
  EXPECT_EQ(promtool_check(m, run.dir()), "") << m;
  EXPECT_GT(sample(m, "guardian_tree_cpu_usage_ratio"), 0);
}

// ---- a real Prometheus scraping guardian --------------------------------------------------

TEST_F(StatusApiTest, ARealPrometheusScrapesTheSeries) {
  auto run = start(true);
  const int prometheus_port = guardian::testing::free_port();
  const fs::path config = run->dir() / "prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        << "scrape_configs:\n  - job_name: guardian\n    authorization:\n      credentials: " << kToken
                        << "\n    static_configs:\n      - targets: ['127.0.0.1:" << run->port() << "']\n";
  Subprocess prometheus({"prometheus", "--config.file=" + config.string(),
                         "--storage.tsdb.path=" + (run->dir() / "tsdb").string(),
                         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                        run->dir());
  const std::string api = "http://127.0.0.1:" + std::to_string(prometheus_port);
  auto query = [&](const std::string& promql) {
    auto r = guardian::testing::fetch_all(api, {{"/api/v1/query?query=" + promql, "", ""}}, run->dir());
    return r.at(0).status == 200 ? r[0].json() : json();
  };
  ASSERT_TRUE(wait_until(
      [&] {
        auto j = query("guardian_up");
        return j.is_object() && j["status"] == "success" && !j["data"]["result"].empty();
      },
      90s))
      << prometheus.stderr_text();
  auto up = query("guardian_up");
  EXPECT_EQ(up["data"]["result"][0]["value"][1], "1");
  EXPECT_EQ(up["data"]["result"][0]["metric"]["job"], "guardian");
  ASSERT_TRUE(wait_until([&] { return !query("guardian_server_probe_duration_seconds_count").value("data", json::object()).value("result", json::array()).empty(); }, 30s));
  auto memory = query("guardian_tree_memory_bytes");
  ASSERT_FALSE(memory["data"]["result"].empty());
  EXPECT_GT(std::stod(memory["data"]["result"][0]["value"][1].get<std::string>()), 0);
  auto probes = query("guardian_server_probe_duration_seconds_count");
  EXPECT_EQ(probes["data"]["result"][0]["metric"]["server"], "api");
  auto targets = guardian::testing::fetch_all(api, {{"/api/v1/targets", "", ""}}, run->dir()).at(0).json();
  EXPECT_EQ(targets["data"]["activeTargets"][0]["health"], "up") << targets.dump();
  prometheus.kill(SIGTERM);
  prometheus.wait(30s);
}

}  // namespace
