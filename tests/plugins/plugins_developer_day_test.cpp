// A web developer's day with guardian, all of it real: uvicorn --reload (Debian's), a private
// D-Bus session with dunst, the jsonfile and websocket plugins with a WebSocket client, and the
// dashboard in headless Chromium, under `guardian serve -- uvicorn app:app --reload`. A driver
// beside it edits the app (a reload: no alert), crashes its worker (one SERVER_DOWN
// notification, a restart), stops the server with SIGSTOP (SERVER_DOWN within seconds), then
// makes it die soon after each start (one SERVER_FLAPPING, bounded notifications) until it is
// stable; then the dashboard is photographed and serve stopped with Ctrl-C.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/desktop_session.hpp"
#include "support/guardian_run.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::testing::read_file;
using guardian::testing::read_lines;
using guardian::testing::Subprocess;
using guardian::testing::wait_until;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::vector<json> json_lines(const fs::path& file) {
  std::vector<json> out;
  for (const auto& line : read_lines(file)) {
    auto parsed = json::parse(line, nullptr, false);
    if (!parsed.is_discarded()) out.push_back(std::move(parsed));
  }
  return out;
}

TEST(DeveloperDay, ReloadCrashHangAndFlappingWithNotifyWebsocketAndJsonfile) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-devday-");
  guardian::testing::DesktopSession desktop(root);
  std::string why;
  ASSERT_TRUE(desktop.start_bus(why)) << why;
  ASSERT_TRUE(desktop.start_dunst(why)) << why;

  const fs::path fixtures = fs::path(TEST_SOURCE_DIR) / "fixtures" / "devday";
  fs::create_directories(root / "app");
  fs::copy_file(fixtures / "app.py", root / "app" / "app.py");
  const int port = guardian::testing::free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  const fs::path port_file = root / "ws.port";
  std::ofstream(root / "guardian.toml")
      << "[plugins.jsonfile]\ndirectory = \"" << (root / "alerts").string() << "\"\n"
      << "[plugins.notify]\n"
      << "[plugins.websocket]\nport = 0\nport_file = \"" << port_file.string() << "\"\n"
      // Only the restart pacing is scaled down (seconds, not minutes); health checks use the defaults.
      << "[run]\nruns_dir = \"" << (root / "runs").string() << "\"\n"
      << "[servers.devday]\nrestart_delay = \"200ms\"\nbackoff_cap = \"1s\"\nstable_uptime = \"5s\"\n"
      << "stop_grace = \"2s\"\n";
  const fs::path results = root / "results.json", shots_ready = root / "shots-ready", shots_done = root / "shots-done";
  Subprocess guardian({TEST_GUARDIAN_BINARY, "serve", "--config", (root / "guardian.toml").string(), "--name",
                       "devday", "--health", url, "--", "/usr/bin/python3", "-m", "uvicorn", "app:app", "--app-dir",
                       (root / "app").string(), "--port", std::to_string(port), "--reload", "--reload-dir",
                       (root / "app").string()},
                      root,
                      // No bytecode cache: an edit that keeps the file's size within the second of the
                      // copy would otherwise reload the stale .pyc (Python checks whole-second mtime
                      // and size), and the reloaded app would still answer "ok 0".
                      {{"DEVDAY_FLAP", (root / "flap").string()}, {"PYTHONDONTWRITEBYTECODE", "1"}, {"CI", ""}, {"GITHUB_ACTIONS", ""},
                       {"GITLAB_CI", ""}, {"GITHUB_STEP_SUMMARY", ""}});
  Subprocess driver({"/usr/bin/python3", (fixtures / "driver.py").string(), url, (root / "app" / "app.py").string(),
                     (root / "flap").string(), results.string(), shots_ready.string(), shots_done.string(),
                     (root / "runs").string(), "devday"},
                    root);

  ASSERT_TRUE(wait_until([&] { return !read_file(port_file).empty(); }, 60s)) << guardian.stderr_text();
  const std::string ws_port = read_file(port_file).substr(0, read_file(port_file).find_first_of("\r\n"));
  const fs::path ws_messages = root / "ws.jsonl";
  Subprocess client({"/usr/bin/python3", std::string(TEST_SOURCE_DIR) + "/ws_listen.py",
                     "ws://127.0.0.1:" + ws_port + "/ws", ws_messages.string()},
                    root);

  // The dashboard, once the day is over but the run still live.
  ASSERT_TRUE(wait_until([&] { return fs::exists(shots_ready) || driver.wait(0ms).has_value(); }, 240s))
      << driver.stderr_text() << guardian.stderr_text();
  const fs::path artifacts = fs::path(TEST_PROJECT_BINARY_DIR) / "tests" / "plugins" / "artifacts";
  fs::create_directories(artifacts);
  Subprocess shot({"node", std::string(TEST_PROJECT_SOURCE_DIR) + "/tests/browser/screenshot.mjs",
                   "http://127.0.0.1:" + ws_port + "/", (artifacts / "developer-day.png").string()},
                  root);
  const auto shot_status = shot.wait(120s);
  std::ofstream(shots_done).put('\n');
  EXPECT_TRUE(shot_status && *shot_status == 0) << shot.stdout_text() << shot.stderr_text();

  const auto driven = driver.wait(120s);
  // On failure: the driver's account, then guardian's (it carries uvicorn's own log lines).
  ASSERT_TRUE(driven && *driven == 0) << driver.stdout_text() << driver.stderr_text() << read_file(results)
                                      << "\n--- guardian:\n" << guardian.stderr_text();
  guardian.kill(SIGINT);  // Ctrl-C: the day is over
  const auto status = guardian.wait(60s);
  ASSERT_TRUE(status.has_value()) << "guardian did not end: " << guardian.stderr_text();
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status << guardian.stderr_text();
  const json measured = json::parse(read_file(results));
  std::cout << "developer day: " << measured.dump() << "\n";

  // The edit reloaded the app without an outage.
  EXPECT_EQ(measured["downs_after_edit"], 0);
  // The hang was found within seconds (≤ 5 s by design; room here for a loaded CI machine).
  EXPECT_LT(measured["hang_detect_ms"].get<int>(), 12000) << measured.dump();
  EXPECT_GE(measured["downs"].get<int>(), 7);

  fs::path run_dir;
  for (const auto& entry : fs::directory_iterator(root / "runs"))
    if (entry.is_directory()) run_dir = entry.path();  // beside the runs directory's .gitignore
  std::map<std::string, int> journaled;
  for (const auto& record : json_lines(run_dir / "alerts.jsonl")) {
    const json& alert = record.contains("alert") ? record["alert"] : record;
    ++journaled[alert.value("type", "")];
  }
  const std::string journal = read_file(run_dir / "alerts.jsonl");
  // The crash and the hang: one SERVER_DOWN each; then one SERVER_FLAPPING for all the rest.
  EXPECT_EQ(journaled["SERVER_DOWN"], 2) << journal;
  EXPECT_EQ(journaled["SERVER_FLAPPING"], 1) << journal;
  EXPECT_EQ(journaled["SERVER_UP"], 3) << journal;
  journaled.erase("LEVEL_CHANGED");  // the monitor's level (info: never a notification)
  EXPECT_EQ(journaled.size(), 3u) << "nothing else (the edit raised no alert): " << journal;

  // The desktop: the two downs and the flapping, nothing per restart.
  ASSERT_TRUE(wait_until([&] { return desktop.received().size() >= 3; }, 10s)) << read_file(root / "received.txt");
  int down_notes = 0, flapping_notes = 0;
  for (const auto& note : desktop.received()) {
    down_notes += note.at("summary").find("is down") != std::string::npos;
    flapping_notes += note.at("summary").find("is flapping") != std::string::npos;
  }
  EXPECT_EQ(down_notes, 2) << read_file(root / "received.txt");
  EXPECT_EQ(flapping_notes, 1) << read_file(root / "received.txt");
  EXPECT_EQ(desktop.received().size(), 3u) << read_file(root / "received.txt");

  // The jsonfile plugin and the WebSocket client saw the same single flapping alert.
  int flapping_files = 0;
  for (const auto& entry : fs::directory_iterator(root / "alerts"))
    flapping_files += entry.path().filename().string().find("_SERVER_FLAPPING.json") != std::string::npos;
  EXPECT_EQ(flapping_files, 1);
  ASSERT_TRUE(client.wait(20s).has_value());
  int flapping_events = 0;
  for (const auto& message : json_lines(ws_messages))
    flapping_events += message.value("kind", "") == "alert" && message["alert"].value("type", "") == "SERVER_FLAPPING";
  EXPECT_EQ(flapping_events, 1);
  fs::remove_all(root);
}

}  // namespace
