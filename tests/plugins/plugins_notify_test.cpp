// The real notify plugin (libnotify) against a real private session bus and a real
// notification daemon (dunst under Xvfb), plus the failure modes it must survive.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_host.hpp"
#include "support/captured_log.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::plugins::PluginHost;
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

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Each test runs in its own process (gtest_discover_tests), so setenv here only
// affects the test at hand; libnotify reads the bus address at its first call.
class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = guardian::testing::make_temp_dir("guardian-notify-");
    // Never reach a real user bus through XDG_RUNTIME_DIR/bus.
    ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
    ::unsetenv("DISPLAY");
    ::unsetenv("DBUS_SESSION_BUS_ADDRESS");
  }
  void TearDown() override {
    host_.reset();
    children_.clear();
    fs::remove_all(root_);
  }

  // dbus-daemon with a config listing no service directories; sets DBUS_SESSION_BUS_ADDRESS.
  void start_bus() {
    auto& bus = spawn({"dbus-daemon", "--config-file=" + (notify_dir / "session.conf").string(), "--nofork",
                       "--print-address=1"});
    ASSERT_TRUE(guardian::testing::wait_until([&] { return bus.stdout_text().find('\n') != std::string::npos; }, 10s))
        << bus.stderr_text();
    ::setenv("DBUS_SESSION_BUS_ADDRESS", trim(bus.stdout_text()).c_str(), 1);
  }

  // Xvfb on a free display, then dunst recording every notification it receives.
  void start_dunst() {
    auto& xvfb = spawn({"Xvfb", "-displayfd", "1", "-nolisten", "tcp"});
    ASSERT_TRUE(guardian::testing::wait_until([&] { return xvfb.stdout_text().find('\n') != std::string::npos; }, 20s))
        << xvfb.stderr_text();
    ::setenv("DISPLAY", (":" + trim(xvfb.stdout_text())).c_str(), 1);
    record_ = root_ / "received.txt";
    ::setenv("GUARDIAN_NOTIFY_RECORD", record_.c_str(), 1);
    std::ofstream(root_ / "dunstrc") << "[global]\n    font = Monospace 8\n\n[record]\n    summary = \"*\"\n"
                                     << "    script = " << (notify_dir / "record.sh").string() << "\n";
    auto& dunst = spawn({"dunst", "-config", (root_ / "dunstrc").string()});
    ASSERT_TRUE(name_owned(20s)) << dunst.stderr_text();
  }

  bool name_owned(std::chrono::milliseconds timeout) {
    return guardian::testing::wait_until(
        [&] {
          Subprocess ask({"gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path",
                          "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner",
                          "org.freedesktop.Notifications"},
                         root_);
          ask.wait(5s);
          return ask.stdout_text().find("true") != std::string::npos;
        },
        timeout);
  }

  Subprocess& spawn(std::vector<std::string> argv) {
    children_.push_back(std::make_unique<Subprocess>(std::move(argv), root_));
    return *children_.back();
  }

  PluginLoadResult start_host(nlohmann::json config, std::chrono::milliseconds stuck_after = 5000ms) {
    auto options = guardian::testing::isolated_options({TEST_BUNDLED_PLUGIN_DIR, TEST_ABI_PLUGIN_DIR}, log_);
    options.stuck_after = stuck_after;
    host_ = std::make_unique<PluginHost>(options);
    PluginLoadResult notify;
    for (auto& r : host_->load(config)) {
      if (r.name == "notify") notify = r;
    }
    return notify;
  }

  // The records dunst's script wrote, split at "--".
  std::vector<std::map<std::string, std::string>> received() const {
    std::vector<std::map<std::string, std::string>> out(1);
    std::string key;
    for (const auto& line : guardian::testing::read_lines(record_)) {
      if (line == "--") {
        out.emplace_back();
        continue;
      }
      const auto eq = line.find('=');
      if (eq != std::string::npos && (line.rfind("app=", 0) == 0 || line.rfind("summary=", 0) == 0 ||
                                      line.rfind("body=", 0) == 0 || line.rfind("urgency=", 0) == 0)) {
        key = line.substr(0, eq);
        out.back()[key] = line.substr(eq + 1);
      } else if (!key.empty()) {
        out.back()[key] += "\n" + line;  // a multi-line body
      }
    }
    out.pop_back();
    return out;
  }

  fs::path root_;
  fs::path record_;
  CapturedLog log_;
  std::vector<std::unique_ptr<Subprocess>> children_;
  std::unique_ptr<PluginHost> host_;
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
