// One real run, every alert path at once: `guardian run` kills a tree at its memory ceiling,
// and the single MEMORY_CEILING_KILL alert reaches the run's alerts.jsonl journal, the
// jsonfile plugin's directory, a real notification daemon (dunst on a private session bus)
// and a real WebSocket client of the websocket plugin.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/desktop_session.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::testing::read_file;
using guardian::testing::read_lines;
using guardian::testing::Subprocess;
using guardian::testing::wait_until;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::vector<nlohmann::json> json_lines(const fs::path& file) {
  std::vector<nlohmann::json> out;
  for (const auto& line : read_lines(file)) {
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_discarded()) out.push_back(std::move(parsed));
  }
  return out;
}

bool mentions_type(const nlohmann::json& value, const std::string& type) {
  return value.dump().find("\"" + type + "\"") != std::string::npos;
}

TEST(EndToEnd, AMemoryCeilingKillReachesTheJournalTheFilesTheDesktopAndTheBrowser) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-e2e-");
  guardian::testing::DesktopSession desktop(root);
  std::string why;
  ASSERT_TRUE(desktop.start_bus(why)) << why;
  ASSERT_TRUE(desktop.start_dunst(why)) << why;

  const fs::path alerts_dir = root / "alerts";
  const fs::path port_file = root / "ws.port";
  std::ofstream(root / "guardian.toml") << "[plugins.jsonfile]\ndirectory = \"" << alerts_dir.string() << "\"\n"
                                        << "[plugins.notify]\n"
                                        << "[plugins.websocket]\nport = 0\nport_file = \"" << port_file.string()
                                        << "\"\n";
  // The payload waits until the WebSocket client is connected (it creates `go`), then
  // allocates far past the 64 MiB ceiling and holds it.
  const fs::path go = root / "go";
  const std::string payload = "while [ ! -e '" + go.string() + "' ]; do sleep 0.05; done; exec '" +
                              std::string(TEST_TARGET_BINARY) + "' alloc 400 30";
  Subprocess guardian({TEST_GUARDIAN_BINARY, "run", "--config", (root / "guardian.toml").string(), "--runs-dir",
                       (root / "runs").string(), "--memory", "64M", "--", "sh", "-c", payload},
                      root, {{"CI", ""}, {"GITHUB_ACTIONS", ""}, {"GITLAB_CI", ""}, {"GITHUB_STEP_SUMMARY", ""}});

  ASSERT_TRUE(wait_until([&] { return !read_file(port_file).empty(); }, 30s)) << guardian.stderr_text();
  const std::string port = read_file(port_file).substr(0, read_file(port_file).find_first_of("\r\n"));
  const fs::path ws_messages = root / "ws.jsonl";
  Subprocess client({"/usr/bin/python3", std::string(TEST_SOURCE_DIR) + "/ws_listen.py", "ws://127.0.0.1:" + port + "/ws",
                     ws_messages.string()},
                    root);
  ASSERT_TRUE(wait_until([&] { return client.stdout_text().find("connected") != std::string::npos; }, 30s))
      << client.stderr_text();
  std::ofstream(go).put('\n');

  const auto status = guardian.wait(60s);
  ASSERT_TRUE(status.has_value()) << "guardian did not end: " << guardian.stderr_text();
  ASSERT_TRUE(WIFEXITED(*status)) << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 137) << guardian.stderr_text();
  ASSERT_TRUE(client.wait(20s).has_value()) << "the WebSocket stayed open after guardian ended";

  // 1. The run's own journal.
  fs::path run_dir;
  for (const auto& entry : fs::directory_iterator(root / "runs"))
    if (entry.is_directory()) run_dir = entry.path();  // beside the runs directory's .gitignore
  ASSERT_FALSE(run_dir.empty());
  bool journaled = false;
  for (const auto& record : json_lines(run_dir / "alerts.jsonl"))
    journaled = journaled || mentions_type(record, "MEMORY_CEILING_KILL");
  EXPECT_TRUE(journaled) << read_file(run_dir / "alerts.jsonl");

  // 2. The jsonfile plugin: one file named after the type, holding that alert.
  std::vector<fs::path> files;
  if (fs::is_directory(alerts_dir))
    for (const auto& entry : fs::directory_iterator(alerts_dir))
      if (entry.path().filename().string().find("_MEMORY_CEILING_KILL.json") != std::string::npos)
        files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u) << guardian.stderr_text();
  const auto file_alert = nlohmann::json::parse(read_file(files[0]), nullptr, false);
  EXPECT_TRUE(mentions_type(file_alert, "MEMORY_CEILING_KILL")) << read_file(files[0]);

  // 3. The desktop: dunst was asked to show it, as critical.
  ASSERT_TRUE(wait_until([&] { return !desktop.received().empty(); }, 10s)) << guardian.stderr_text();
  bool shown = false;
  for (const auto& note : desktop.received())
    shown = shown || (note.at("app") == "guardian" && note.at("urgency") == "CRITICAL" &&
                      note.at("summary").find("memory") != std::string::npos);
  EXPECT_TRUE(shown) << read_file(root / "received.txt");

  // 4. The browser side: the WebSocket client got the alert event.
  bool pushed = false;
  for (const auto& message : json_lines(ws_messages)) pushed = pushed || mentions_type(message, "MEMORY_CEILING_KILL");
  EXPECT_TRUE(pushed) << read_file(ws_messages);

  fs::remove_all(root);
}

}  // namespace
