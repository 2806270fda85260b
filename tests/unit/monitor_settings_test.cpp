// Monitor settings from the configuration: defaults, per-mode thresholds and protector
// mode, overrides from the environment layer and flags, and refusal of unsafe values.
#include <gtest/gtest.h>

#include "guardian/config/config.hpp"
#include "guardian/monitor/monitor_settings.hpp"

namespace {

using namespace guardian::monitor;
using guardian::config::Config;
using guardian::config::ConfigError;
using guardian::config::Origin;
using namespace std::chrono_literals;

const std::filesystem::path kWork = "/srv/project";

TEST(MonitorSettingsTest, DefaultsAreTheIssueTable) {
  auto s = MonitorSettings::from_config(Config::defaults(), "dev", kWork);
  EXPECT_EQ(s.intervals[Level::idle].check_interval, 30s);
  EXPECT_EQ(s.intervals[Level::idle].report_interval, 5min);
  EXPECT_EQ(s.intervals[Level::normal].check_interval, 5s);
  EXPECT_EQ(s.intervals[Level::normal].report_interval, 1min);
  EXPECT_EQ(s.intervals[Level::intensive].check_interval, 1s);
  EXPECT_EQ(s.intervals[Level::intensive].report_interval, 10s);
  EXPECT_EQ(s.intervals[Level::critical].check_interval, 500ms);
  EXPECT_EQ(s.intervals[Level::critical].report_interval, 2s);
  EXPECT_EQ(s.progressive.calm_period, 60s);
  EXPECT_EQ(s.progressive.idle_after, 5min);
  EXPECT_DOUBLE_EQ(s.progressive.idle_cpu_percent, 1.0);
  EXPECT_FALSE(s.progressive.pinned);
  EXPECT_EQ(s.threshold_policy.persistence_checks, 2);
  EXPECT_DOUBLE_EQ(s.cpu.warning_percent, 70);
  EXPECT_DOUBLE_EQ(s.cpu.critical_percent, 85);
  EXPECT_DOUBLE_EQ(s.memory.warning_percent, 75);
  EXPECT_DOUBLE_EQ(s.memory.critical_percent, 90);
  EXPECT_DOUBLE_EQ(s.disk.warning_percent, 80);
  EXPECT_DOUBLE_EQ(s.disk.critical_percent, 95);
  EXPECT_EQ(s.disks, (std::vector<std::filesystem::path>{kWork}));
  EXPECT_EQ(s.history, 1000u);
  EXPECT_EQ(s.protector.mode, ProtectMode::renice);
  EXPECT_TRUE(s.disposable.empty());
}

TEST(MonitorSettingsTest, ProtectorModePerMode) {
  auto config = Config::defaults();
  EXPECT_EQ(MonitorSettings::from_config(config, "dev", kWork).protector.mode, ProtectMode::renice);
  EXPECT_EQ(MonitorSettings::from_config(config, "test", kWork).protector.mode, ProtectMode::kill);
  EXPECT_EQ(MonitorSettings::from_config(config, "prod", kWork).protector.mode, ProtectMode::renice);
  config.set("protector.test.mode", "off", Origin{Origin::Layer::file, "guardian.toml:3"});
  EXPECT_EQ(MonitorSettings::from_config(config, "test", kWork).protector.mode, ProtectMode::off);
  // --protect wins over every mode.
  config.set("protector.mode", "kill", Origin{Origin::Layer::flag, "protect"});
  EXPECT_EQ(MonitorSettings::from_config(config, "dev", kWork).protector.mode, ProtectMode::kill);
  EXPECT_EQ(MonitorSettings::from_config(config, "test", kWork).protector.mode, ProtectMode::kill);
}

TEST(MonitorSettingsTest, ThresholdsPerModeAndOverrides) {
  auto config = Config::defaults();
  config.set("thresholds.test.cpu_warning", "60%", Origin{Origin::Layer::file, "guardian.toml:7"});
  EXPECT_DOUBLE_EQ(MonitorSettings::from_config(config, "test", kWork).cpu.warning_percent, 60);
  EXPECT_DOUBLE_EQ(MonitorSettings::from_config(config, "dev", kWork).cpu.warning_percent, 70);
  config.set("thresholds.cpu_warning", "50%", Origin{Origin::Layer::environment, "GUARDIAN_CPU_WARNING"});
  EXPECT_DOUBLE_EQ(MonitorSettings::from_config(config, "test", kWork).cpu.warning_percent, 50);
  EXPECT_DOUBLE_EQ(MonitorSettings::from_config(config, "prod", kWork).cpu.warning_percent, 50);
  config.set("thresholds.cpu_warning", "90%", Origin{Origin::Layer::environment, "GUARDIAN_CPU_WARNING"});
  EXPECT_THROW(MonitorSettings::from_config(config, "dev", kWork), ConfigError) << "warning above critical";
}

TEST(MonitorSettingsTest, PinnedLevelIntervalsAndLists) {
  auto config = Config::defaults();
  config.set("monitor.level", "intensive", Origin{Origin::Layer::flag, "level"});
  config.set("monitor.normal.check_interval", "200ms", Origin{});
  config.set("monitor.disks", ".,/var/tmp", Origin{});
  config.set("protector.protected", "postgres, *redis*", Origin{});
  config.set("protector.disposable", ".pytest_cache, /tmp/scratch", Origin{});
  auto s = MonitorSettings::from_config(config, "dev", kWork);
  EXPECT_EQ(s.progressive.pinned, Level::intensive);
  EXPECT_EQ(s.intervals[Level::normal].check_interval, 200ms);
  EXPECT_EQ(s.disks, (std::vector<std::filesystem::path>{kWork, "/var/tmp"}));
  EXPECT_EQ(s.protector.protected_patterns, (std::vector<std::string>{"postgres", "*redis*"}));
  EXPECT_EQ(s.disposable, (std::vector<std::filesystem::path>{kWork / ".pytest_cache", "/tmp/scratch"}));
  auto json = s.to_json();
  EXPECT_EQ(json["pinned"], "INTENSIVE");
  EXPECT_EQ(json["levels"]["NORMAL"]["check_interval_ms"], 200);
}

TEST(MonitorSettingsTest, RefusesToDeleteTheWorkingDirectory) {
  auto config = Config::defaults();
  config.set("protector.disposable", ".pytest_cache, .", Origin{Origin::Layer::file, "guardian.toml:12"});
  try {
    MonitorSettings::from_config(config, "dev", kWork);
    FAIL() << "accepted the working directory as disposable";
  } catch (const ConfigError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("guardian.toml:12"), std::string::npos) << message;
    EXPECT_NE(message.find("working directory"), std::string::npos) << message;
    EXPECT_NE(message.find("Remove it from the list"), std::string::npos) << message;
  }
}

TEST(MonitorSettingsTest, KeysAreInTheSchemaWithFlagsAndEnvironment) {
  auto config = Config::load({kWork, std::nullopt, {{"GUARDIAN_PROTECT", "off"}, {"GUARDIAN_CALM_PERIOD", "5s"}},
                              {{"level", "critical"}}});
  auto s = MonitorSettings::from_config(config, "test", kWork);
  EXPECT_EQ(s.protector.mode, ProtectMode::off);
  EXPECT_EQ(s.progressive.calm_period, 5s);
  EXPECT_EQ(s.progressive.pinned, Level::critical);
  EXPECT_THROW(config.set("protector.mode", "nuke", Origin{}), ConfigError);
}

}  // namespace
