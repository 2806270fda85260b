// One session core for `run` and `serve` (issue 13), on the real binary: serve loads the
// plugins and runs the monitor like run does; in run, a --server is part of the watched
// tree; the command and the servers start with 0, 1, 2 and exactly the descriptors
// guardian was given; --quiet holds with --server; the limits fallback is one short line.
#include <cstdio>
#include <thread>

#include "monitor_support.hpp"
#include "servers_support.hpp"

namespace guardian::testing {
namespace {

using monitor::named;
using monitor::wait_for_event;

// GET `url` with python3 (the body; empty on failure).
std::string http_get(const std::string& url) {
  std::string command = "/usr/bin/python3 -c 'import sys, urllib.request; "
                        "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' '" +
                        url + "' 2>/dev/null";
  std::string body;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) body.append(buffer, n);
    ::pclose(pipe);
  }
  return body;
}

// The line of `text` that starts with `prefix`, without the prefix.
std::string line_after(const std::string& text, const std::string& prefix) {
  auto at = text.find(prefix);
  if (at == std::string::npos) return {};
  at += prefix.size();
  return text.substr(at, text.find('\n', at) - at);
}

bool escalated(const Json& event) {
  if (event.value("event", "") != "level.changed") return false;
  auto to = event["context"].value("to", "");
  return to == "INTENSIVE" || to == "CRITICAL";
}

class SessionTest : public GuardianTest {};

// What a shell holds, as "LABEL: 0 1 2 …" (LABEL is $0). It reaches every shell below
// through the environment, so no quoting has to survive three shells. ls writes into a
// file: the shell itself then opens nothing while ls looks (a pipe or a command
// substitution would show up in the list, or not, depending on timing).
constexpr const char* kListFds = R"sh(ls /proc/$$/fd > "$0.fds"; echo "$0: $(sort -n "$0.fds" | tr '\n' ' ')")sh";

// The outer shell opens fd 7, lists what a child of its gets, then becomes guardian: so
// guardian is given exactly that list, and the command and the server must hold the same.
// guardian itself holds more (the websocket plugin's listening socket, the event log,
// pipes, pidfds): none of it may reach them.
TEST_F(SessionTest, CommandAndServersStartWithOnlyWhatGuardianWasGiven) {
  servers::write_file(dir_ / "guardian.toml", R"([plugins.websocket]
port = 0
port_file = "ws.port"
)");
  const std::string script =
      R"(exec 7</etc/hostname; sh -c "$LIST_FDS" given; exec "$GUARDIAN_UNDER_TEST" run )"
      R"(--server 'lister=sh -c "$LIST_FDS; sleep 30" listed' -- sh -c "sleep 2; $LIST_FDS" command)";
  auto spawn = options({"-c", script});
  spawn.program = "/bin/sh";
  spawn.env.emplace_back("LIST_FDS", kListFds);
  spawn.env.emplace_back("GUARDIAN_UNDER_TEST", guardian_bin());
  GuardianProcess process(spawn);
  RunResult result = process.wait(30s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const std::string given = line_after(result.out, "given: ");
  const std::string command = line_after(result.out, "command: ");
  const std::string server = line_after(result.out, "[lister] listed: ");
  ASSERT_FALSE(given.empty()) << result.describe();
  EXPECT_NE((" " + given).find(" 7 "), std::string::npos) << given;
  EXPECT_EQ(command, given) << "the command holds descriptors guardian opened\n" << result.describe();
  // The server's stdin, stdout and stderr are guardian's /dev/null and output pipes.
  EXPECT_EQ(server, given) << "the server holds descriptors guardian opened\n" << result.describe();
  EXPECT_TRUE(fs::exists(dir_ / "ws.port")) << "the websocket plugin must be listening for this test to mean much";
}

// serve = run without a command: the plugins of the configuration load and receive the
// servers' alerts, the monitor runs and the status API answers with the servers and the
// monitor; the report has the same sections as run's.
TEST_F(SessionTest, ServeLoadsThePluginsAndTheyReceiveServerDown) {
  int port = servers::free_port();
  servers::write_file(dir_ / "guardian.toml", servers::fast_server_config("web") + R"(
[plugins.jsonfile]
directory = "alert-files"
[plugins.websocket]
port = 0
port_file = "ws.port"
)");
  // Answers three requests (probes), exits, and is started again: a SERVER_DOWN.
  auto process = start({"serve", "--report", report_copy_path().string(), "--name", "web", "--health",
                        servers::health_url(port), "--", target_bin(), "serve-http", std::to_string(port),
                        "--exit-after-requests", "3"});
  bool delivered = false;
  for (int i = 0; i < 150 && !delivered; ++i) {
    std::this_thread::sleep_for(100ms);
    std::error_code ec;
    if (!fs::is_directory(dir_ / "alert-files", ec)) continue;
    for (const auto& entry : fs::directory_iterator(dir_ / "alert-files", ec))
      if (read_text_file(entry.path()).find("SERVER_DOWN") != std::string::npos) delivered = true;
  }
  EXPECT_TRUE(delivered) << "the jsonfile plugin wrote no SERVER_DOWN alert\n" << process->out();
  ASSERT_TRUE(fs::exists(dir_ / "ws.port")) << process->out();
  const std::string base = "http://127.0.0.1:" + std::to_string(std::stoi(read_text_file(dir_ / "ws.port")));
  Json status = Json::parse(http_get(base + "/api/monitoring/status"), nullptr, false);
  ASSERT_TRUE(status.is_object()) << "the status API did not answer";
  EXPECT_TRUE(status["servers"].contains("web")) << status.dump();
  EXPECT_TRUE(status.contains("monitor")) << status.dump();
  process->send_signal(SIGTERM);
  RunResult result = process->wait(20s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  Json report_json = report();
  for (const char* section : {"servers", "monitor", "alerts"})
    EXPECT_TRUE(report_json.contains(section)) << section << " missing from " << report_json.dump();
  std::vector<std::string> loaded;
  for (const auto& event : servers::events_named(dir_, "plugin.loaded"))
    loaded.push_back(event["context"].value("name", ""));
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "jsonfile"), loaded.end());
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "websocket"), loaded.end());
}

// serve names its limits backend like run (issue 13: the dashboard said "backend ?" under
// serve): the status API's backend and enforcement are the servers' limiters', and
// report.json has the same sections, an "enforcement" with the same backend as a run's.
TEST_F(SessionTest, ServeNamesTheLimitsBackendItsServersUseLikeRun) {
  // A run on this host: which backend, and which sections, a report of this machine has.
  const fs::path run_report = dir_ / "run-report.json";
  RunResult ran = run({"run", "--report", run_report.string(), "--", target_bin(), "exit", "0"}, 20s);
  ASSERT_EQ(ran.exit_code, 0) << ran.describe();
  const Json run_json = read_json_file(run_report);
  ASSERT_TRUE(run_json.contains("enforcement")) << run_json.dump();
  const Json run_backend = run_json["enforcement"].value("backend", Json());
  ASSERT_TRUE(run_backend.is_string()) << run_json.dump();

  int port = servers::free_port();
  servers::write_file(dir_ / "guardian.toml", servers::fast_server_config("web") + R"(
[plugins.websocket]
port = 0
port_file = "ws.port"
)");
  auto process = start({"serve", "--report", report_copy_path().string(), "--name", "web", "--health",
                        servers::health_url(port), "--", target_bin(), "serve-http", std::to_string(port)});
  ASSERT_TRUE(process->wait_for_stdout("[web] request GET /health", 15s)) << process->out();
  for (int i = 0; i < 50 && !fs::exists(dir_ / "ws.port"); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(fs::exists(dir_ / "ws.port")) << process->out();
  const std::string base = "http://127.0.0.1:" + std::to_string(std::stoi(read_text_file(dir_ / "ws.port")));
  Json status = Json::parse(http_get(base + "/api/monitoring/status"), nullptr, false);
  ASSERT_TRUE(status.is_object()) << "the status API did not answer";
  EXPECT_EQ(status.value("backend", Json()), run_backend) << status.dump();
  EXPECT_TRUE(status["enforcement"].is_object() && status["enforcement"].value("backend", Json()) == run_backend)
      << status.dump();
  process->send_signal(SIGTERM);
  RunResult result = process->wait(20s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const Json serve_json = report();
  ASSERT_TRUE(serve_json.is_object());
  for (auto it = run_json.begin(); it != run_json.end(); ++it)
    EXPECT_TRUE(serve_json.contains(it.key())) << it.key() << " missing from serve's report " << serve_json.dump();
  EXPECT_EQ(serve_json["enforcement"].value("backend", Json()), run_backend) << serve_json["enforcement"].dump();
  for (auto it = run_json["enforcement"].begin(); it != run_json["enforcement"].end(); ++it)
    EXPECT_TRUE(serve_json["enforcement"].contains(it.key()))
        << "enforcement." << it.key() << " missing from serve's report " << serve_json["enforcement"].dump();
}

// The monitor watches the servers of `serve`: an endpoint burning a core under a 20% CPU
// ceiling takes the level up.
TEST_F(SessionTest, ServeWithACpuBurningEndpointEscalatesTheMonitor) {
  int port = servers::free_port();
  monitor::write_config(dir_, servers::fast_server_config("web"));
  auto process = start({"serve", "--cpu", "20%", "--protect", "off", "--report", report_copy_path().string(), "--name",
                        "web", "--health", servers::health_url(port), "--", target_bin(), "serve-http",
                        std::to_string(port)});
  ASSERT_TRUE(process->wait_for_stdout("[web] request GET /health", 15s)) << process->out();
  EXPECT_EQ(http_get("http://127.0.0.1:" + std::to_string(port) + "/burn"), "burning");
  auto change = wait_for_event(dir_, escalated, 25s);
  process->send_signal(SIGTERM);
  RunResult result = process->wait(20s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  ASSERT_TRUE(change) << "no level change while the server burned its CPU ceiling\n" << result.describe();
  EXPECT_NE(change->dump().find("cpu"), std::string::npos) << change->dump();
  EXPECT_GT(report()["monitor"]["peak"]["cpu_percent_of_core"].get<double>(), 5.0);
}

// In `run`, a --server is part of the watched tree: the same burning endpoint, while the
// command only waits, raises the CPU condition.
TEST_F(SessionTest, RunServerBurningItsCpuCeilingRaisesTheCondition) {
  int port = servers::free_port();
  monitor::write_config(dir_, servers::fast_server_config("web"));
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto process = start({"run", "--cpu", "20%", "--protect", "off", "--report", report_copy_path().string(),
                        "--server", "web=" + target_bin() + " serve-http " + std::to_string(port), "--health",
                        "web=" + url + "/health", "--", "/usr/bin/python3", "-c",
                        "import sys, time, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).read(); "
                        "time.sleep(12)",
                        url + "/burn"});
  auto change = wait_for_event(dir_, escalated, 25s);
  RunResult result = process->wait(40s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  ASSERT_TRUE(change) << "no level change while the server burned its CPU ceiling\n" << result.describe();
  EXPECT_NE(change->dump().find("cpu"), std::string::npos) << change->dump();
}

// No [plugins.*] table: the default plugins' host starts at the run's first alert (issue 17).
// A ceiling kill's alert is raised once the event loop has ended: the host is started then,
// in finish(), and the alert still becomes the default jsonfile plugin's file.
TEST_F(SessionTest, AnAlertRaisedAfterTheLoopEndedStillReachesTheDefaultPlugins) {
  const RunResult result = run(
      run_target_reported({"--limits-backend", "watchdog", "--memory", "64M"}, {"alloc", "2048", "20"}), 30s);
  ASSERT_EQ(result.exit_code, 137) << result.describe();
  bool alert_file = false;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ / ".guardian" / "alerts", ec))
    alert_file = alert_file || entry.path().filename().string().find("MEMORY_CEILING_KILL") != std::string::npos;
  EXPECT_TRUE(alert_file) << "the default jsonfile plugin wrote no alert file";
  EXPECT_NE(report().value("plugins", Json()).dump().find("jsonfile"), std::string::npos) << report().dump(2);
}

// --quiet holds once --server is given, and the limits fallback (on a host without cgroup
// v2, like a hybrid one) is one short line beside the start line's "limits: watchdog".
TEST_F(SessionTest, QuietHoldsWithServersAndTheFallbackLineIsShort) {
  int port = servers::free_port();
  servers::write_file(dir_ / "guardian.toml", servers::fast_server_config("web"));
  const std::vector<std::string> server = {"--server", "web=" + target_bin() + " serve-http " + std::to_string(port),
                                           "--health", "web=" + servers::health_url(port)};
  auto quiet_args = run_target({"--quiet"}, {"exit", "0"});
  quiet_args.insert(quiet_args.begin() + 1, server.begin(), server.end());
  RunResult quiet = run(quiet_args, 30s);
  ASSERT_EQ(quiet.exit_code, 0) << quiet.describe();
  for (const auto& line : quiet.err_lines())
    EXPECT_EQ(line.rfind("guardian:", 0), std::string::npos) << "--quiet, yet: " << line;

  auto loud_args = run_target({}, {"exit", "0"});
  loud_args.insert(loud_args.begin() + 1, server.begin(), server.end());
  RunResult loud = run(loud_args, 30s);
  ASSERT_EQ(loud.exit_code, 0) << loud.describe();
  for (const auto& line : loud.err_lines()) {
    if (line.find("cgroup") != std::string::npos && line.find("running '") == std::string::npos) {
      EXPECT_LE(line.size(), 120u) << "a long fallback line: " << line;
    }
  }
}

}  // namespace
}  // namespace guardian::testing
