// `guardian plugins` on the real bundled plugins and the misbehaving test plugins.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "guardian/cli/plugins_command.hpp"

namespace {

class PluginsCommandTest : public ::testing::Test {
 protected:
  // Only the directories given on the command line and the build dir (no env path).
  void SetUp() override { ::unsetenv("GUARDIAN_PLUGIN_PATH"); }
};

TEST_F(PluginsCommandTest, ListsBundledPluginsWithConfigKeysAndDefaults) {
  guardian::cli::PluginsCommandOptions options;
  options.plugins_config = {{"jsonfile", {{"max_files", 10}}}, {"notify", {{"enabled", false}}}};
  std::ostringstream out;
  EXPECT_EQ(guardian::cli::run_plugins_command(options, out), 0) << out.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("jsonfile 1.0.0  ABI 1.0  [enabled]"), std::string::npos) << text;
  EXPECT_NE(text.find("notify 1.0.0  ABI 1.0  [disabled]"), std::string::npos) << text;
  EXPECT_NE(text.find("websocket 1.0.0  ABI 1.0  [not configured]"), std::string::npos) << text;
  EXPECT_NE(text.find("min_severity"), std::string::npos) << text;
  EXPECT_NE(text.find("\"warning\""), std::string::npos) << "defaults are shown:\n" << text;
  EXPECT_NE(text.find("requires a token"), std::string::npos) << "descriptions are shown:\n" << text;
}

TEST_F(PluginsCommandTest, JsonListsRefusedPluginsWithTheReason) {
  guardian::cli::PluginsCommandOptions options;
  options.json = true;
  options.plugin_dirs = {TEST_ABI_PLUGIN_DIR};
  options.plugins_config = {{"recorder", {{"file", 3}}}};
  std::ostringstream out;
  EXPECT_EQ(guardian::cli::run_plugins_command(options, out), 1) << "refusals make it fail";
  const auto doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(doc["host_abi"], 1);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& plugin : doc["plugins"]) by_name[plugin["name"]] = plugin;
  ASSERT_TRUE(by_name.count("wrong_major"));
  EXPECT_EQ(by_name["wrong_major"]["usable"], false);
  EXPECT_NE(by_name["wrong_major"]["refused"].get<std::string>().find("ABI 2"), std::string::npos);
  EXPECT_EQ(by_name["recorder"]["state"], "invalid config: key 'file' must be a string, got 3");
  EXPECT_EQ(by_name["recorder"]["config"][0]["key"], "file");
  ASSERT_TRUE(by_name.count("websocket")) << "the build dir is searched too";
  EXPECT_EQ(by_name["websocket"]["config"].size(), 9u);  // + snapshot_interval_ms (issue 7)
}

}  // namespace
