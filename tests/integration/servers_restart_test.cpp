// Dev servers beside a run, with the real binary and real HTTP servers (guardian-target
// serve-http): a server killed mid-run is noticed through its exit (before any probe
// could), restarted and healthy again while the command goes on; a hung server is found
// by probe timeouts and replaced; a slow starter gets the next, longer startup timeout.
#include "servers_support.hpp"

namespace guardian::testing {
namespace {

using namespace servers;

class ServersTest : public GuardianTest {
 protected:
  // guardian run --server api='guardian-target serve-http PORT ...' --health api=URL -- python3 client.py
  RunResult run_with_server(const std::string& server_args, const std::string& action,
                            const std::string& extra_config = "", std::chrono::milliseconds timeout = 45s) {
    port_ = free_port();
    write_file(dir_ / "guardian.toml", fast_server_config("api", extra_config));
    write_file(dir_ / "client.py", kClientScript);
    std::string server = target_bin() + " serve-http " + std::to_string(port_) + server_args;
    return run({"run", "--report", report_copy_path().string(), "--server", "api=" + server, "--health",
                "api=" + health_url(port_), "--", "/usr/bin/python3", (dir_ / "client.py").string(),
                health_url(port_), action, "api"},
               timeout);
  }

  int port_ = 0;
};

TEST_F(ServersTest, ServerKilledMidRunIsRestartedAndTheCommandGoesOn) {
  RunResult result = run_with_server("", "kill");
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.out.find("client: back"), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("server 'api' went down"), std::string::npos) << result.err;

  auto downs = servers::events_named(dir_, "server.down");
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0]["context"].value("reason", ""), "exited");
  EXPECT_EQ(downs[0]["context"].value("exit", ""), "killed by SIGKILL");
  // Noticed through the process's exit, not through failed health checks: faster than
  // one probe interval whatever the level.
  EXPECT_EQ(first_index(dir_, "server.probe_failed"), -1) << "the exit must be noticed before any probe fails";
  auto healthy = servers::events_named(dir_, "server.healthy");
  ASSERT_EQ(healthy.size(), 2u);
  EXPECT_EQ(healthy[1]["context"].value("restart", false), true);

  EXPECT_EQ(alerts_of_type(dir_, "SERVER_DOWN").size(), 1u);
  auto ups = alerts_of_type(dir_, "SERVER_UP");
  ASSERT_EQ(ups.size(), 1u);
  auto down_alert = alerts_of_type(dir_, "SERVER_DOWN")[0];
  ASSERT_TRUE(down_alert["context"].contains("running_test")) << "the test-runner adapter fills this in";
  EXPECT_TRUE(down_alert["context"]["running_test"].is_null());
  EXPECT_FALSE(down_alert["context"]["last_output"].empty());

  Json report_json = report();
  ASSERT_TRUE(report_json.contains("servers")) << report_json.dump(2);
  const Json& api = report_json["servers"]["api"];
  EXPECT_EQ(api.value("restarts", -1), 1);
  EXPECT_EQ(api.value("downs", -1), 1);
  EXPECT_EQ(api["startup_times_ms"].size(), 2u);
  EXPECT_TRUE(api["last_probe_latency_ms"].is_number());
  EXPECT_EQ(api.value("state", ""), "stopped");
  EXPECT_EQ(report_json.value("exit_code", -1), 0);
  // The restarted server is not one of the command's leftovers (it is stopped as a server).
  EXPECT_EQ(report_json["resources"].value("leftover_processes_killed", -1), 0) << report_json.dump(2);
  EXPECT_TRUE(servers::events_named(dir_, "tree.swept").empty());
}

TEST_F(ServersTest, HungServerIsFoundByProbeTimeoutsAndReplaced) {
  // SIGSTOP: the kernel still accepts connections, nobody answers — a hung server.
  RunResult result = run_with_server("", "freeze");
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto downs = servers::events_named(dir_, "server.down");
  ASSERT_EQ(downs.size(), 1u) << result.describe();
  EXPECT_EQ(downs[0]["context"].value("reason", ""), "unhealthy");
  EXPECT_NE(downs[0].value("message", "").find("timed out"), std::string::npos) << downs[0].dump();
  EXPECT_NE(first_index(dir_, "server.probe_failed"), -1);
  EXPECT_LT(first_index(dir_, "server.probe_failed"), first_index(dir_, "server.down"));
  EXPECT_EQ(servers::events_named(dir_, "server.healthy").size(), 2u);
  EXPECT_EQ(report()["servers"]["api"].value("restarts", -1), 1);
}

TEST_F(ServersTest, SlowStarterGetsTheLongerTimeoutOnTheNextAttempt) {
  RunResult result = run_with_server(" --slow-start 1.5", "nothing", "startup_timeouts = [\"1s\", \"6s\"]\n");
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto failed = servers::events_named(dir_, "server.start_failed");
  ASSERT_EQ(failed.size(), 1u) << result.describe();
  EXPECT_EQ(failed[0]["context"].value("reason", ""), "timed_out");
  EXPECT_EQ(failed[0]["context"].value("startup_timeout_ms", 0), 1000);
  auto launched = servers::events_named(dir_, "server.launched");
  ASSERT_EQ(launched.size(), 2u);
  EXPECT_EQ(launched[0]["context"].value("startup_timeout_ms", 0), 1000);
  EXPECT_EQ(launched[1]["context"].value("startup_timeout_ms", 0), 6000);
  EXPECT_EQ(launched[1]["context"].value("attempt", 0), 2);
  auto healthy = servers::events_named(dir_, "server.healthy");
  ASSERT_EQ(healthy.size(), 1u);
  EXPECT_EQ(healthy[0]["context"].value("attempt", 0), 2);
  EXPECT_EQ(report()["servers"]["api"].value("failed_starts", -1), 1);
}

TEST_F(ServersTest, ServerThatNeverBecomesHealthyEndsTheRunWith125AndItsLastOutput) {
  port_ = free_port();
  write_file(dir_ / "guardian.toml", fast_server_config("api", "startup_timeouts = [\"600ms\", \"600ms\"]\n"));
  RunResult result = run({"run", "--report", report_copy_path().string(), "--server",
                          "api=echo 'api: cannot read settings.ini' >&2; exec " + target_bin() + " sleep 30",
                          "--health", "api=" + health_url(port_), "--", target_bin(), "print-args", "MAIN-RAN"},
                         30s);
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_EQ(result.out.find("MAIN-RAN"), std::string::npos) << "the command must not start";
  EXPECT_NE(result.err.find("server 'api' never became healthy"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("[api] api: cannot read settings.ini"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("not started"), std::string::npos) << result.err;
  Json report_json = report();
  EXPECT_EQ(report_json.value("outcome", ""), "server_failed");
  EXPECT_EQ(report_json["servers"]["api"].value("state", ""), "fatal");
  EXPECT_EQ(report_json["servers"]["api"].value("launches", 0), 2);
}

TEST_F(ServersTest, CrashLoopAtStartTripsTheCircuitBreaker) {
  port_ = free_port();
  write_file(dir_ / "guardian.toml",
             fast_server_config("api", "startup_timeouts = [\"5s\", \"5s\", \"5s\", \"5s\", \"5s\", \"5s\"]\n"
                                       "breaker_failures = 2\n"));
  RunResult result = run({"run", "--report", report_copy_path().string(), "--server",
                          "api=echo 'boom: bad config' >&2; exit 3", "--health", "api=" + health_url(port_), "--",
                          target_bin(), "print-args", "MAIN-RAN"},
                         30s);
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_NE(result.err.find("circuit breaker"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("[api] boom: bad config"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("MAIN-RAN"), std::string::npos);
  Json report_json = report();
  EXPECT_EQ(report_json["servers"]["api"]["gave_up"].value("reason", ""), "circuit_breaker");
  EXPECT_EQ(report_json["servers"]["api"].value("launches", 0), 3);  // more than 2 failed starts
  EXPECT_FALSE(alerts_of_type(dir_, "SERVER_GAVE_UP").empty()) << "its own type, not the generic CRITICAL";
  EXPECT_TRUE(alerts_of_type(dir_, "CRITICAL").empty());
}

TEST_F(ServersTest, CrashLoopDuringTheRunStopsTheCommandAndExits125) {
  port_ = free_port();
  write_file(dir_ / "guardian.toml", fast_server_config("api", "breaker_failures = 2\n"));
  write_file(dir_ / "client.py", kClientScript);
  // Healthy once; every restart after that fails at once.
  std::string server = "if [ -e started ]; then echo 'boom: lost its database' >&2; exit 3; fi; touch started; exec " +
                       target_bin() + " serve-http " + std::to_string(port_);
  RunResult result = run({"run", "--report", report_copy_path().string(), "--server", "api=" + server, "--health",
                          "api=" + health_url(port_), "--", "/usr/bin/python3", (dir_ / "client.py").string(),
                          health_url(port_), "kill", "api"},
                         40s);
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_EQ(result.out.find("client: back"), std::string::npos);
  EXPECT_NE(result.err.find("circuit breaker"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("boom: lost its database"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("Stopping the command"), std::string::npos) << result.err;
  Json report_json = report();
  EXPECT_EQ(report_json.value("outcome", ""), "server_failed");
  EXPECT_EQ(report_json.value("signal", ""), "SIGTERM") << "the command was stopped";
}

TEST_F(ServersTest, TcpAndExecHealthChecks) {
  port_ = free_port();
  write_file(dir_ / "guardian.toml", fast_server_config("api") + fast_server_config("side"));
  std::string tcp = "api=tcp://127.0.0.1:" + std::to_string(port_);
  // The exec check passes once the side server wrote its file.
  RunResult result = run({"run", "--report", report_copy_path().string(),
                          "--server", "api=" + target_bin() + " serve-http " + std::to_string(port_), "--health", tcp,
                          "--server", "side=sleep 0.3; touch side-ready; exec sleep 60",
                          "--health", "side=exec:test -e side-ready",
                          "--", target_bin(), "print-args", "MAIN-RAN"},
                         30s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.out.find("MAIN-RAN"), std::string::npos);
  Json servers_json = report()["servers"];
  EXPECT_EQ(servers_json["api"]["last_probe"].value("detail", ""), "connected");
  EXPECT_EQ(servers_json["side"]["last_probe"].value("detail", ""), "exit 0");
  EXPECT_EQ(servers_json["side"].value("failed_starts", -1), 0);
}

TEST_F(ServersTest, SlowStartAndSlowAnswersAreServerSlowConditions) {
  port_ = free_port();
  write_file(dir_ / "guardian.toml",
             fast_server_config("api", "slow_start = \"300ms\"\n") +
                 fast_server_config("side", "slow_warning = \"100ms\"\nslow_critical = \"250ms\"\n"
                                            "probe_timeout = \"2s\"\n"));
  RunResult result = run({"run", "--report", report_copy_path().string(),
                          "--server", "api=" + target_bin() + " serve-http " + std::to_string(port_) + " --slow-start 0.6",
                          "--health", "api=" + health_url(port_),
                          "--server", "side=exec sleep 60", "--health", "side=exec:sleep 0.3",
                          "--", target_bin(), "sleep", "1.5"},
                         30s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto slow = alerts_of_type(dir_, "SERVER_SLOW");
  bool slow_start = false, slow_answer = false;
  for (const auto& alert : slow) {
    if (alert.value("subject", "") == "api" && alert["context"].value("reason", "") == "slow_start") slow_start = true;
    if (alert.value("subject", "") == "side" && alert["context"].value("reason", "") == "slow_answer") {
      slow_answer = true;
      EXPECT_EQ(alert.value("severity", ""), "critical") << alert.dump();  // 300 ms > 250 ms
    }
  }
  EXPECT_TRUE(slow_start) << "the 600 ms start is slower than slow_start (300 ms)";
  EXPECT_TRUE(slow_answer) << "the 300 ms answers are slower than slow_critical (250 ms)";
  EXPECT_TRUE(alerts_of_type(dir_, "SERVER_DOWN").empty()) << "slow is not down";
}

TEST_F(ServersTest, MalformedServerFlagsFailBeforeAnythingStarts) {
  RunResult result = run({"run", "--server", "api", "--", target_bin(), "print-args", "MAIN-RAN"}, 10s);
  EXPECT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_NE(result.err.find("NAME=VALUE"), std::string::npos) << result.err;
  result = run({"run", "--health", "api=http://127.0.0.1:1/health", "--", target_bin(), "print-args", "MAIN-RAN"}, 10s);
  EXPECT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_NE(result.err.find("--server api="), std::string::npos) << result.err;
  result = run({"run", "--server", "api=true", "--health", "api=localhost:80", "--", target_bin(), "print-args", "MAIN-X-RAN"}, 10s);
  EXPECT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_NE(result.err.find("http://HOST:PORT/PATH"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("MAIN-X-RAN"), std::string::npos);
}

}  // namespace
}  // namespace guardian::testing
