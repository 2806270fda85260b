// The websocket plugin's Prometheus exposition and the webhook plugin's payloads as pure
// functions (compiled in from the plugins' sources), checked by promtool and by value.
#include <gtest/gtest.h>

#include <fstream>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "payloads.hpp"
#include "support/subprocess.hpp"
#include "telemetry.hpp"

namespace {

using guardian::testing::Subprocess;
using nlohmann::json;
using namespace std::chrono_literals;
namespace gws = guardian::websocket;
namespace gwh = guardian::webhook;

json server_event(const std::string& name, double latency_ms, bool ok, int restarts) {
  return {{"kind", "server"}, {"server", name}, {"state", "running"}, {"healthy", ok}, {"restarts", restarts},
          {"probe", {{"ok", ok}, {"latency_ms", latency_ms}}}};
}

std::string promtool(const std::string& text) {
  const auto dir = guardian::testing::make_temp_dir("guardian-promtool-");
  std::ofstream(dir / "m.txt") << text;
  Subprocess check({"/bin/sh", "-c", "promtool check metrics < '" + (dir / "m.txt").string() + "'"}, dir);
  const auto status = check.wait(60s);
  std::string out = check.stdout_text() + check.stderr_text();
  std::filesystem::remove_all(dir);
  return status && WEXITSTATUS(*status) == 0 ? "" : "promtool: " + out;
}

TEST(TelemetryTest, HistogramBucketsAreCumulativeAndLabelsEscaped) {
  gws::Telemetry t;
  const std::string odd = "we\"ird\\name\nx";
  t.on_event(server_event(odd, 3, true, 0));      // <= 0.005 s
  t.on_event(server_event(odd, 40, true, 0));     // <= 0.05
  t.on_event(server_event(odd, 40000, false, 2)); // +Inf only
  t.on_event({{"kind", "alert"}, {"alert", {{"type", "SERVER_DOWN"}, {"severity", "critical"}}}});
  t.on_event({{"kind", "alert"}, {"alert", {{"type", "SERVER_DOWN"}, {"severity", "critical"}}}});
  t.on_event({{"kind", "level_changed"}});  // ignored
  const std::string text = t.prometheus({{"run_id", "r\"1"}, {"mode", "dev"}, {"state", "running"}});
  EXPECT_EQ(promtool(text), "") << text;
  const std::string label = "server=\"we\\\"ird\\\\name\\nx\"";
  EXPECT_NE(text.find("guardian_server_probe_duration_seconds_bucket{" + label + ",le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("guardian_server_probe_duration_seconds_bucket{" + label + ",le=\"0.025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("guardian_server_probe_duration_seconds_bucket{" + label + ",le=\"0.05\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("guardian_server_probe_duration_seconds_bucket{" + label + ",le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("guardian_server_probe_duration_seconds_bucket{" + label + ",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("guardian_server_probe_duration_seconds_sum{" + label + "} 40.043\n"), std::string::npos) << text;
  EXPECT_NE(text.find("guardian_server_restarts_total{" + label + "} 2\n"), std::string::npos);
  EXPECT_NE(text.find("guardian_alerts_total{type=\"SERVER_DOWN\",severity=\"critical\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("run_id=\"r\\\"1\""), std::string::npos);
  EXPECT_EQ(t.servers()[odd]["uptime_percent"].get<double>(), 200.0 / 3.0);
}

TEST(TelemetryTest, CpuSecondsIntegrateEverySnapshotOnceAndUpIsZeroWhenFinished) {
  gws::Telemetry t;
  auto snap = [](const char* time, json cpu) { return json{{"time", time}, {"tree", {{"cpu_percent_of_core", cpu}}}}; };
  t.on_snapshot(snap("2026-01-01T00:00:00.000+00:00", nullptr));  // the first check has no rate
  t.on_snapshot(snap("2026-01-01T00:00:02.000+00:00", 50.0));     // 1 s of CPU
  t.on_snapshot(snap("2026-01-01T00:00:02.000+00:00", 50.0));     // seen already
  t.on_snapshot(snap("2026-01-01T00:00:01.000Z", 100.0));         // older: ignored
  t.on_snapshot(snap("2026-01-01T00:00:04.500Z", 200.0));         // 2.5 s at two cores
  EXPECT_DOUBLE_EQ(t.cpu_seconds_total(), 6.0);
  const std::string text = t.prometheus({{"state", "finished"}});
  EXPECT_NE(text.find("guardian_up 0\n"), std::string::npos);
  EXPECT_NE(text.find("guardian_tree_cpu_seconds_total 6\n"), std::string::npos) << text;
  EXPECT_EQ(promtool(text), "") << text;
}

TEST(TelemetryTest, IsoTimesWithOffsets) {
  EXPECT_DOUBLE_EQ(*gws::parse_iso8601_epoch_s("1970-01-01T00:00:01.5Z"), 1.5);
  EXPECT_DOUBLE_EQ(*gws::parse_iso8601_epoch_s("1970-01-01T01:00:00.000+01:00"), 0.0);
  EXPECT_DOUBLE_EQ(*gws::parse_iso8601_epoch_s("1970-01-01T00:00:00-00:30"), 1800.0);
  EXPECT_FALSE(gws::parse_iso8601_epoch_s("yesterday"));
  EXPECT_FALSE(gws::parse_iso8601_epoch_s("1970-01-01T00:00:00 UTC"));
}

TEST(WebhookPayloadTest, AlertmanagerLabelsAnnotationsAndEndsAt) {
  const json alert = {{"id", 3}, {"ts", "2026-01-01T00:00:00.000+00:00"}, {"type", "SERVER_DOWN"},
                      {"severity", "critical"}, {"subject", "api"}, {"title", "server 'api' is down"},
                      {"message", "exited with 3"}, {"source", "health"}};
  const gwh::PayloadContext context{"box", "run-9", ""};
  const json raised = json::parse(gwh::body_for(gwh::Format::alertmanager, alert, context, ""));
  ASSERT_TRUE(raised.is_array());
  EXPECT_EQ(raised[0]["labels"], json({{"alertname", "SERVER_DOWN"}, {"severity", "critical"}, {"run", "run-9"},
                                       {"host", "box"}, {"source", "health"}, {"subject", "api"}}));
  EXPECT_EQ(raised[0]["annotations"], json({{"summary", "server 'api' is down"}, {"description", "exited with 3"}}));
  EXPECT_EQ(raised[0]["startsAt"], "2026-01-01T00:00:00.000+00:00");
  EXPECT_FALSE(raised[0].contains("endsAt"));
  EXPECT_FALSE(raised[0].contains("generatorURL"));
  const json resolved = json::parse(gwh::body_for(gwh::Format::alertmanager, alert, context, "2026-01-01T00:01:00Z"));
  EXPECT_EQ(resolved[0]["endsAt"], "2026-01-01T00:01:00Z");
  EXPECT_EQ(resolved[0]["labels"], raised[0]["labels"]) << "the same identity, so it ends the same alert";
  const json slack = json::parse(gwh::body_for(gwh::Format::slack, alert, context, "2026-01-01T00:01:00Z"));
  EXPECT_EQ(slack["text"], "[RESOLVED] SERVER_DOWN server 'api' is down (box, run run-9)");
}

}  // namespace

namespace {

// The core counts only the probes since the server was first healthy: the refused ones of
// its start do not make a server that never failed look 60 % up; and the latency history
// is kept for a page opened mid-run.
TEST(TelemetryTest, UptimeComesFromTheCoresCountsAndLatencyHistoryIsKept) {
  gws::Telemetry t;
  for (int i = 0; i < 5; ++i) {
    json starting = server_event("api", 0.2, false, 0);  // refused while it starts
    starting["state"] = "starting";
    starting["probes"] = 0;
    starting["probes_ok"] = 0;
    starting["ts"] = "2026-01-01T00:00:0" + std::to_string(i) + ".000Z";
    t.on_event(starting);
  }
  for (int i = 0; i < 3; ++i) {
    json up = server_event("api", 4, true, 0);
    up["probes"] = i + 1;
    up["probes_ok"] = i + 1;
    up["ts"] = "2026-01-01T00:00:1" + std::to_string(i) + ".000Z";
    t.on_event(up);
  }
  EXPECT_EQ(t.servers()["api"]["uptime_percent"].get<double>(), 100.0) << t.servers().dump();
  EXPECT_EQ(t.servers()["api"]["probes"], 3);
  const json history = t.latency_history()["api"];
  ASSERT_EQ(history["ms"].size(), 8u);
  EXPECT_EQ(history["time_s"][0].get<double>(), 1767225600.0);
  EXPECT_EQ(history["ms"][7].get<double>(), 4.0);
}

}  // namespace
