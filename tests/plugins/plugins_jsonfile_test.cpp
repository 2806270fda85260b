// The real jsonfile plugin: file names and content, 0700/0600, atomic writes that
// survive kill -9, and retention by count and age.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <utime.h>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_runner.hpp"
#include "support/captured_log.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::plugins::PluginRunner;
using guardian::plugins::PluginLoadResult;
using guardian::testing::CapturedLog;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

nlohmann::json alert_event(int id, const std::string& type, long ts_ms) {
  return {{"kind", "alert"},
          {"ts", "x"},
          {"run_id", "run-1"},
          {"alert",
           {{"id", id}, {"type", type}, {"severity", "critical"}, {"ts_unix_ms", ts_ms}, {"message", "m"}}}};
}

// The finished alert files: a temporary ".alert_*" is a write in progress (or cut by a kill).
std::size_t final_alert_count(const fs::path& dir) {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind(".alert_", 0) != 0) ++count;
  return count;
}

std::vector<fs::path> alert_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

int mode_of(const fs::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return static_cast<int>(st.st_mode & 07777);
}

class JsonFileTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = guardian::testing::make_temp_dir("guardian-jsonfile-"); }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<PluginRunner> start(const nlohmann::json& config) {
    auto host = std::make_unique<PluginRunner>(
        guardian::testing::isolated_options({TEST_BUNDLED_PLUGIN_DIR}, log_));
    for (const auto& r : host->load({{"jsonfile", config}})) {
      if (r.name == "jsonfile") {
        EXPECT_EQ(r.status, PluginLoadResult::Status::loaded) << r.describe();
      }
    }
    return host;
  }

  fs::path root_;
  CapturedLog log_;
};

TEST_F(JsonFileTest, OneFilePerAlertWithOwnerOnlyPermissions) {
  const fs::path dir = root_ / "deep" / "alerts";
  auto host = start({{"directory", dir.string()}});
  host->publish(alert_event(1, "SERVER_DOWN", 1700000000123));
  host->publish({{"kind", "level_changed"}, {"level", "CRITICAL"}});  // not an alert: no file
  host->publish(alert_event(2, "SERVER_DOWN", 1700000000456));         // same second and type
  host->publish(alert_event(3, "TEST_TIMEOUT", 1700000001000));
  host->shutdown(5s);

  const auto files = alert_files(dir);
  ASSERT_EQ(files.size(), 3u) << log_.joined();
  EXPECT_EQ(files[0].filename(), "alert_1700000000_SERVER_DOWN-2.json");
  EXPECT_EQ(files[1].filename(), "alert_1700000000_SERVER_DOWN.json");
  EXPECT_EQ(files[2].filename(), "alert_1700000001_TEST_TIMEOUT.json");
  EXPECT_EQ(mode_of(dir), 0700);
  for (const auto& file : files) EXPECT_EQ(mode_of(file), 0600) << file;
  const auto first = nlohmann::json::parse(guardian::testing::read_file(files[1]));
  EXPECT_EQ(first["id"], 1);
  EXPECT_EQ(first["run_id"], "run-1");
  EXPECT_EQ(nlohmann::json::parse(guardian::testing::read_file(files[0]))["id"], 2);
}

TEST_F(JsonFileTest, RetentionByCount) {
  auto host = start({{"directory", root_.string()}, {"max_files", 5}});
  for (int i = 0; i < 12; ++i) host->publish(alert_event(i, "TEST_FAILED", 1700000000000 + i * 1000));
  host->shutdown(5s);
  const auto files = alert_files(root_);
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files.front().filename(), "alert_1700000007_TEST_FAILED.json");  // the 5 newest remain
  EXPECT_EQ(files.back().filename(), "alert_1700000011_TEST_FAILED.json");
}

TEST_F(JsonFileTest, RetentionByAgeAndStaleTempFilesAtStart) {
  // Files from an earlier run: one two hours old, one fresh, and a temp file a killed writer left.
  const fs::path old_file = root_ / "alert_1600000000_SERVER_DOWN.json";
  const fs::path fresh_file = root_ / "alert_1700000000_SERVER_DOWN.json";
  const fs::path stale_temp = root_ / ".alert_1700000000_SERVER_DOWN.123.1.tmp";
  for (const auto& f : {old_file, fresh_file, stale_temp}) std::ofstream(f) << "{}";
  const time_t two_hours_ago = ::time(nullptr) - 7200;
  struct utimbuf times {two_hours_ago, two_hours_ago};
  ASSERT_EQ(::utime(old_file.c_str(), &times), 0);

  auto host = start({{"directory", root_.string()}, {"max_age_s", 3600}});
  host->shutdown(5s);
  EXPECT_FALSE(fs::exists(old_file));
  EXPECT_TRUE(fs::exists(fresh_file));
  EXPECT_FALSE(fs::exists(stale_temp));
}

TEST_F(JsonFileTest, UnwritableDirectoryFailsTheLoadWithTheReason) {
  const fs::path blocker = root_ / "file";
  std::ofstream(blocker) << "x";
  PluginRunner host(guardian::testing::isolated_options({TEST_BUNDLED_PLUGIN_DIR}, log_));
  const auto results = host.load({{"jsonfile", {{"directory", (blocker / "alerts").string()}}}});
  bool seen = false;
  for (const auto& r : results) {
    if (r.name != "jsonfile") continue;
    seen = true;
    EXPECT_EQ(r.status, PluginLoadResult::Status::failed);
    EXPECT_NE(r.message.find("writable"), std::string::npos) << r.message;
  }
  EXPECT_TRUE(seen);
}

TEST_F(JsonFileTest, KillDashNineWhileWritingLeavesNoPartialFile) {
  const fs::path dir = root_ / "alerts";
  for (int round = 0; round < 5; ++round) {
    guardian::testing::Subprocess flood({JSONFILE_FLOOD, TEST_BUNDLED_PLUGIN_DIR, dir.string()}, root_);
    ASSERT_TRUE(guardian::testing::wait_until(
        [&] { return fs::exists(dir) && final_alert_count(dir) >= static_cast<std::size_t>(10 * (round + 1)); }, 20s))
        << flood.stderr_text();
    std::this_thread::sleep_for(std::chrono::milliseconds(7 * round));
    flood.kill(SIGKILL);
    const auto status = flood.wait(10s);
    ASSERT_TRUE(status.has_value());
    ASSERT_TRUE(WIFSIGNALED(*status));
  }
  std::size_t complete = 0;
  for (const auto& file : alert_files(dir)) {
    const auto name = file.filename().string();
    if (name.rfind(".alert_", 0) == 0) continue;  // a temp file is never a final alert; removed at next start
    const auto text = guardian::testing::read_file(file);
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << name << " is a partial file (" << text.size() << " bytes)";
    EXPECT_EQ(parsed["message"].get<std::string>().size(), 64u * 1024u);
    ++complete;
  }
  EXPECT_GE(complete, 50u);
}

}  // namespace
