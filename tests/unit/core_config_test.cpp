// The layered configuration: precedence, origins, and errors that say where and what to do.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "guardian/config/config.hpp"

using namespace guardian::config;
namespace fs = std::filesystem;

namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("guardian-config-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  Sources sources() const {
    Sources s;
    s.working_dir = dir_;
    return s;
  }
  std::string error_of(const Sources& s) {
    try {
      Config::load(s);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

}  // namespace

TEST_F(ConfigTest, DefaultsApplyWithoutAnyFile) {
  auto config = Config::load(sources());
  EXPECT_EQ(config.text("mode"), "dev");
  EXPECT_EQ(config.duration("run.kill_after"), std::chrono::milliseconds(10000));
  EXPECT_FALSE(config.duration("run.timeout").has_value());
  EXPECT_EQ(config.find("mode")->origin.describe(), "default");
  EXPECT_FALSE(config.file().has_value());
}

TEST_F(ConfigTest, FileThenEnvironmentThenFlagsWin) {
  write("guardian.toml", "mode = \"test\"\n[run]\ntimeout = \"5m\"\nkill_after = \"3s\"\n");
  auto s = sources();
  s.environment = {{"GUARDIAN_TIMEOUT", "10m"}, {"GUARDIAN_MODE", "prod"}};
  s.flags = {{"mode", "dev"}};
  auto config = Config::load(s);
  EXPECT_EQ(config.text("mode"), "dev");
  EXPECT_EQ(config.find("mode")->origin.describe(), "flag --mode");
  EXPECT_EQ(config.duration("run.timeout"), std::chrono::minutes(10));
  EXPECT_EQ(config.find("run.timeout")->origin.describe(), "env GUARDIAN_TIMEOUT");
  EXPECT_EQ(config.duration("run.kill_after"), std::chrono::seconds(3));
  EXPECT_EQ(config.find("run.kill_after")->origin.describe(), "guardian.toml:4");
}

TEST_F(ConfigTest, PyprojectToolGuardianTableIsRead) {
  write("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.guardian]\nmode = \"test\"\n");
  auto config = Config::load(sources());
  EXPECT_EQ(config.text("mode"), "test");
  EXPECT_EQ(config.find("mode")->origin.describe(), "pyproject.toml:5");
}

TEST_F(ConfigTest, PyprojectWithoutGuardianTableIsIgnored) {
  write("pyproject.toml", "[project]\nname = \"x\"\n");
  auto config = Config::load(sources());
  EXPECT_EQ(config.text("mode"), "dev");
  EXPECT_FALSE(config.file().has_value());
}

TEST_F(ConfigTest, GuardianTomlWinsOverPyproject) {
  write("pyproject.toml", "[tool.guardian]\nmode = \"test\"\n");
  write("guardian.toml", "mode = \"prod\"\n");
  EXPECT_EQ(Config::load(sources()).text("mode"), "prod");
}

TEST_F(ConfigTest, ExplicitFileIsUsedAndMustExist) {
  write("other.toml", "mode = \"prod\"\n");
  auto s = sources();
  s.explicit_file = dir_ / "other.toml";
  EXPECT_EQ(Config::load(s).text("mode"), "prod");
  s.explicit_file = dir_ / "missing.toml";
  EXPECT_NE(error_of(s).find("does not exist"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineAndSuggestion) {
  write("guardian.toml", "mode = \"dev\"\n\n[run]\ntimout = \"5s\"\n");
  auto error = error_of(sources());
  EXPECT_NE(error.find("guardian.toml:4"), std::string::npos) << error;
  EXPECT_NE(error.find("'run.timout'"), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean 'run.timeout'"), std::string::npos) << error;
}

TEST_F(ConfigTest, BadValueNamesKeyAndValidForms) {
  write("guardian.toml", "[run]\ntimeout = \"soon\"\n");
  auto error = error_of(sources());
  EXPECT_NE(error.find("guardian.toml:2"), std::string::npos) << error;
  EXPECT_NE(error.find("run.timeout"), std::string::npos) << error;
  EXPECT_NE(error.find("90s"), std::string::npos) << error;  // shows an example of a valid value
}

TEST_F(ConfigTest, BadChoiceSuggestsTheClosest) {
  auto s = sources();
  s.flags = {{"mode", "tset"}};
  auto error = error_of(s);
  EXPECT_NE(error.find("did you mean 'test'"), std::string::npos) << error;
  EXPECT_NE(error.find("--mode"), std::string::npos) << error;
}

TEST_F(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  auto s = sources();
  s.environment = {{"GUARDIAN_KILL_AFTER", "forever"}};
  EXPECT_NE(error_of(s).find("GUARDIAN_KILL_AFTER"), std::string::npos);
}

TEST_F(ConfigTest, InvalidTomlIsReportedWithPosition) {
  write("guardian.toml", "mode = \n");
  auto error = error_of(sources());
  EXPECT_NE(error.find("guardian.toml:1"), std::string::npos) << error;
  EXPECT_NE(error.find("not valid TOML"), std::string::npos) << error;
}

TEST_F(ConfigTest, PluginTablesPassThroughWithNativeTypes) {
  write("guardian.toml", "[plugins.jsonfile]\nenabled = true\nkeep = 50\ndir = \"x\"\n");
  auto config = Config::load(sources());
  const auto& plugins = config.plugin_tables();
  ASSERT_TRUE(plugins.contains("jsonfile"));
  EXPECT_EQ(plugins["jsonfile"]["enabled"], true);
  EXPECT_EQ(plugins["jsonfile"]["keep"], 50);
}

TEST_F(ConfigTest, PluginsUserIsGuardiansOwnSettingNotAPluginTable) {
  write("guardian.toml", "[plugins]\nuser = \"nobody\"\n[plugins.jsonfile]\nenabled = true\n");
  auto config = Config::load(sources());
  EXPECT_EQ(config.text("plugins.user"), "nobody");
  EXPECT_FALSE(config.plugin_tables().contains("user"));
  EXPECT_TRUE(config.plugin_tables().contains("jsonfile"));

  auto s = sources();
  s.environment = {{"GUARDIAN_PLUGINS_USER", "daemon"}};
  EXPECT_EQ(Config::load(s).text("plugins.user"), "daemon");
}

TEST_F(ConfigTest, APluginsUserTableIsRefusedWithTheSettingsForm) {
  write("guardian.toml", "[plugins.user]\nenabled = true\n");
  auto error = error_of(sources());
  EXPECT_NE(error.find("guardian.toml:1: 'plugins.user' is one of guardian's settings (text), not a table; write plugins.user = <value>."),
            std::string::npos)
      << error;
}

TEST_F(ConfigTest, ArraysBecomeLists) {
  write("guardian.toml", "[run]\ntimeout = 90\n");
  EXPECT_EQ(Config::load(sources()).duration("run.timeout"), std::chrono::seconds(90));
}
