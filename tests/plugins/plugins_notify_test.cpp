// The real notify plugin (libnotify) against a real private session bus and a real
// notification daemon (dunst under Xvfb), plus the failure modes it must survive.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_runner.hpp"
#include "support/captured_log.hpp"
#include "support/desktop_session.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::plugins::PluginRunner;
using guardian::plugins::PluginLoadResult;
using guardian::testing::CapturedLog;
using guardian::testing::Subprocess;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path notify_dir = fs::path(TEST_SOURCE_DIR) / "notify";

nlohmann::json alert_event(const std::string& severity, const std::string& title, const std::string& message,
                           int suppressed = 0) {
  return {{"kind", "alert"},
          {"ts", "t"},
          {"run_id", "r"},
          {"alert",
           {{"id", 1},
            {"type", "SERVER_DOWN"},
            {"severity", severity},
            {"title", title},
            {"message", message},
            {"suppressed_count", suppressed}}}};
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = guardian::testing::make_temp_dir("guardian-notify-");
    desktop_ = std::make_unique<guardian::testing::DesktopSession>(root_);
  }
  void TearDown() override {
    host_.reset();
    desktop_.reset();
    fs::remove_all(root_);
  }

  void start_bus() {
    std::string why;
    ASSERT_TRUE(desktop_->start_bus(why)) << why;
  }
  void start_dunst() {
    std::string why;
    ASSERT_TRUE(desktop_->start_dunst(why)) << why;
  }
  Subprocess& spawn(std::vector<std::string> argv) { return desktop_->spawn(std::move(argv)); }
  std::vector<std::map<std::string, std::string>> received() const { return desktop_->received(); }

  PluginLoadResult start_host(nlohmann::json config, std::chrono::milliseconds stuck_after = 5000ms) {
    auto options = guardian::testing::isolated_options({TEST_BUNDLED_PLUGIN_DIR, TEST_ABI_PLUGIN_DIR}, log_);
    options.stuck_after = stuck_after;
    host_ = std::make_unique<PluginRunner>(options);
    PluginLoadResult notify;
    for (auto& r : host_->load(config)) {
      if (r.name == "notify") notify = r;
    }
    return notify;
  }

  fs::path root_;
  CapturedLog log_;
  std::unique_ptr<guardian::testing::DesktopSession> desktop_;
  std::unique_ptr<PluginRunner> host_;
};

TEST_F(NotifyTest, DunstReceivesAppNameSummaryBodyAndUrgency) {
  start_bus();
  start_dunst();
  ASSERT_EQ(start_host({{"notify", nlohmann::json::object()}}).status, PluginLoadResult::Status::loaded);
  host_->publish(alert_event("critical", "api is down", "GET /health refused 3 times"));
  host_->publish(alert_event("info", "api is up", "below min_severity (warning): not shown"));
  host_->publish(alert_event("warning", "api is slow", "p95 2.3 s", 4));
  ASSERT_TRUE(guardian::testing::wait_until([&] { return received().size() >= 2; }, 20s)) << log_.joined();
  host_->shutdown(5s);
  const auto got = received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].at("app"), "guardian");
  EXPECT_EQ(got[0].at("summary"), "api is down");
  EXPECT_EQ(got[0].at("body"), "GET /health refused 3 times");
  EXPECT_EQ(got[0].at("urgency"), "CRITICAL");
  EXPECT_EQ(got[1].at("app"), "guardian");
  EXPECT_EQ(got[1].at("summary"), "api is slow");
  EXPECT_EQ(got[1].at("body"), "p95 2.3 s\n(4 more like this were held back by the rate limit)");
  EXPECT_EQ(got[1].at("urgency"), "NORMAL");
  EXPECT_EQ(log_.count("notify: 2:"), 0u) << log_.joined();
}

TEST_F(NotifyTest, NoBusGivesOneWarningAndNoHang) {
  ASSERT_EQ(start_host({{"notify", {{"min_severity", "info"}}}}).status, PluginLoadResult::Status::loaded);
  for (int i = 0; i < 5; ++i) host_->publish(alert_event("critical", "down", "no bus here"));
  ASSERT_TRUE(guardian::testing::wait_until([&] { return host_->stats()["notify"]["calls"] == 5; }, 20s))
      << host_->stats().dump();
  EXPECT_EQ(log_.count("cannot show desktop notifications"), 1u) << log_.joined();
  EXPECT_EQ(log_.lines().size(), 1u) << log_.joined();
  EXPECT_TRUE(host_->shutdown(5s).empty());
}

TEST_F(NotifyTest, BusWithoutNotificationServerGivesOneWarning) {
  start_bus();
  ASSERT_EQ(start_host({{"notify", nlohmann::json::object()}}).status, PluginLoadResult::Status::loaded);
  for (int i = 0; i < 3; ++i) host_->publish(alert_event("critical", "down", "nobody listens"));
  ASSERT_TRUE(guardian::testing::wait_until([&] { return host_->stats()["notify"]["calls"] == 3; }, 20s));
  EXPECT_EQ(log_.count("cannot show desktop notifications"), 1u) << log_.joined();
  EXPECT_TRUE(host_->shutdown(5s).empty());
}

TEST_F(NotifyTest, DaemonThatNeverRepliesLeavesTheHostAndOtherPluginsUnaffected) {
  start_bus();
  auto& silent = spawn({"/usr/bin/python3", (notify_dir / "silent_daemon.py").string()});
  ASSERT_TRUE(guardian::testing::wait_until([&] { return silent.stdout_text() == "owned\n"; }, 20s))
      << silent.stderr_text();
  const auto events_file = root_ / "events.jsonl";
  start_host({{"notify", nlohmann::json::object()}, {"recorder", {{"file", events_file.string()}}}}, 300ms);
  ASSERT_EQ(host_->loaded_plugins().size(), 2u) << log_.joined();
  for (int i = 0; i < 50; ++i) host_->publish(alert_event("critical", "down", std::to_string(i)));
  ASSERT_TRUE(guardian::testing::wait_until([&] { return guardian::testing::read_lines(events_file).size() == 50; },
                                            20s));
  ASSERT_TRUE(guardian::testing::wait_until([&] { return log_.count("notify: 2: stuck") == 1; }, 10s))
      << log_.joined();
  EXPECT_EQ(host_->stats()["notify"]["calls"], 0) << "the first show is still waiting for the daemon";
  const auto abandoned = host_->shutdown(500ms);
  EXPECT_EQ(abandoned, std::vector<std::string>{"notify"});
}

}  // namespace
