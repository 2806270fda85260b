// `guardian serve` and the bundled uvicorn example, for real: Ctrl-C (SIGINT) stops the
// servers cleanly (uvicorn's own graceful shutdown, then nothing left behind), and
// `guardian run --server api='uvicorn …' -- pytest examples/webapp/tests` passes end to
// end, the test that crashes the server included.
#include "servers_support.hpp"

#ifndef GUARDIAN_SOURCE_DIR
#error "GUARDIAN_SOURCE_DIR must point at the source tree (examples/webapp)"
#endif

namespace guardian::testing {
namespace {

using namespace servers;

const fs::path kWebapp = fs::path(GUARDIAN_SOURCE_DIR) / "examples" / "webapp";

std::string uvicorn_command(int port, const std::string& extra = "") {
  return "/usr/bin/python3 -m uvicorn app:app --app-dir " + kWebapp.string() + " --port " + std::to_string(port) + extra;
}

TEST_F(GuardianTest, ServeStopsCleanlyOnSigint) {
  int port = free_port();
  servers::write_file(dir_ / "guardian.toml", fast_server_config("web"));
  auto process = start({"serve", "--report", report_copy_path().string(), "--name", "web", "--health",
                        health_url(port), "--", target_bin(), "serve-http", std::to_string(port)});
  ASSERT_TRUE(process->wait_for_stdout("[web] request GET /health", 15s)) << process->out();
  process->send_signal(SIGINT);
  RunResult result = process->wait(20s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.err.find("SIGINT: stopping the servers"), std::string::npos) << result.err;
  Json report_json = report();
  EXPECT_EQ(report_json.value("outcome", ""), "stopped");
  EXPECT_EQ(report_json["servers"]["web"].value("state", ""), "stopped");
  EXPECT_EQ(report_json["servers"]["web"].value("downs", -1), 0) << "a requested stop is not a crash";
  EXPECT_EQ(report_json["servers"]["web"].value("last_exit", ""), "killed by SIGTERM");
  EXPECT_TRUE(alerts_of_type(dir_, "SERVER_DOWN").empty());
}

TEST_F(GuardianTest, ServeRestartsACrashedServer) {
  int port = free_port();
  servers::write_file(dir_ / "guardian.toml", fast_server_config("web"));
  // Answers two requests (two probes), exits, and is started again.
  auto process = start({"serve", "--name", "web", "--health", health_url(port), "--", target_bin(), "serve-http",
                        std::to_string(port), "--exit-after-requests", "2"});
  ASSERT_TRUE(process->wait_for_stdout("[web] exiting after 2 requests", 15s)) << process->out();
  // The second launch answers again.
  bool restarted = false;
  for (int i = 0; i < 100 && !restarted; ++i) {
    process->wait_for_stdout("\x01never", 100ms);
    auto out = process->out();
    auto first = out.find("[web] listening");
    restarted = first != std::string::npos && out.find("[web] listening", first + 1) != std::string::npos;
  }
  EXPECT_TRUE(restarted) << process->out();
  process->send_signal(SIGTERM);
  RunResult result = process->wait(20s);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_FALSE(alerts_of_type(dir_, "SERVER_DOWN").empty());
}

TEST_F(GuardianTest, ServeUvicornWithReloadStopsGracefullyOnSigint) {
  int port = free_port();
  servers::write_file(dir_ / "guardian.toml", fast_server_config("api", "startup_timeouts = [\"30s\"]\nstop_grace = \"5s\"\n"));
  auto process = start({"serve", "--report", report_copy_path().string(), "--name", "api", "--health",
                        health_url(port), "--", "/usr/bin/python3", "-m", "uvicorn", "app:app", "--app-dir",
                        kWebapp.string(), "--port", std::to_string(port), "--reload", "--reload-dir",
                        kWebapp.string()});
  ASSERT_TRUE(process->wait_for_stdout("GET /health", 30s)) << process->out();
  // The reloader parent and its worker child both belong to the server.
  EXPECT_GE(processes_with_marker(marker_).size(), 2u);
  process->send_signal(SIGINT);
  RunResult result = process->wait(30s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  // uvicorn's own graceful shutdown ran (guardian sent SIGINT first, not SIGKILL); its log
  // goes to stderr, forwarded with the "[api] " prefix.
  EXPECT_NE(result.err.find("[api] INFO:     Finished server process"), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("[api] INFO:     Stopping reloader process"), std::string::npos) << result.describe();
  EXPECT_TRUE(servers::events_named(dir_, "server.stop_escalated").empty()) << "SIGINT alone was enough";
  // Graceful, not forced: the worker got one signal (from its reloader), ran its shutdown,
  // and was not cancelled half-way (a worker that sees SIGINT and SIGTERM force-quits).
  EXPECT_NE(result.err.find("[api] INFO:     Application shutdown complete."), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("CancelledError"), std::string::npos) << result.err;
  EXPECT_EQ(report()["servers"]["api"].value("state", ""), "stopped");
}

TEST_F(GuardianTest, RunPytestAgainstTheUvicornExampleEndToEnd) {
  int port = free_port();
  servers::write_file(dir_ / "guardian.toml", fast_server_config("api", "startup_timeouts = [\"30s\"]\n"));
  SpawnOptions spawn = options({"run", "--report", report_copy_path().string(), "--server",
                                "api=" + uvicorn_command(port), "--health", "api=" + health_url(port), "--",
                                "/usr/bin/python3", "-m", "pytest", (kWebapp / "tests").string(), "-v", "-p",
                                "no:cacheprovider"});
  spawn.env.emplace_back("WEBAPP_URL", "http://127.0.0.1:" + std::to_string(port));
  GuardianProcess process(spawn);
  RunResult result = process.wait(90s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.out.find("4 passed"), std::string::npos) << result.describe();
  EXPECT_EQ(result.out.find("SKIPPED"), std::string::npos) << "the crash test must run under guardian";
  Json api = report()["servers"]["api"];
  EXPECT_EQ(api.value("restarts", -1), 1) << api.dump(2);  // the /crash test brought it down once
  EXPECT_EQ(alerts_of_type(dir_, "SERVER_DOWN").size(), 1u);
  auto downs = servers::events_named(dir_, "server.down");
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0]["context"].value("exit", ""), "exited with 3");
  // At the end uvicorn got one SIGINT and shut down gracefully (a second one force-quits it).
  EXPECT_NE(result.err.find("[api] INFO:     Application shutdown complete."), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("CancelledError"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace guardian::testing
