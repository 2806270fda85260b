// The plugin SDK as a third party uses it: install guardian's plugin_sdk component into
// a temporary prefix, build examples/plugin-minimal with find_package(guardian), and
// load the result in a real PluginRunner.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_runner.hpp"
#include "support/captured_log.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::testing::Subprocess;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

void run_ok(std::vector<std::string> argv, const fs::path& dir) {
  Subprocess step(argv, dir);
  const auto status = step.wait(300s);
  ASSERT_TRUE(status.has_value()) << argv[0] << " did not finish";
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << argv[1] << "\n" << step.stdout_text() << step.stderr_text();
}

TEST(PluginSdk, ThirdPartyPluginBuildsWithFindPackageAndLoads) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-sdk-");
  const fs::path prefix = root / "prefix";
  const std::string cmake = TEST_CMAKE_COMMAND;
  run_ok({cmake, "--install", TEST_PROJECT_BINARY_DIR, "--prefix", prefix.string(), "--component", "plugin_sdk"}, root);
  ASSERT_TRUE(fs::exists(prefix / "include" / "guardian" / "plugin.h"));

  const fs::path build = root / "build";
  run_ok({cmake, "-S", std::string(TEST_PROJECT_SOURCE_DIR) + "/examples/plugin-minimal", "-B", build.string(),
          "-DCMAKE_PREFIX_PATH=" + prefix.string(), "-DCMAKE_INSTALL_PREFIX=" + (root / "inst").string(),
          "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror"},
         root);
  run_ok({cmake, "--build", build.string()}, root);
  ASSERT_TRUE(fs::exists(build / "minimal.so"));

  guardian::testing::CapturedLog log;
  guardian::plugins::PluginRunner host(guardian::testing::isolated_options({build}, log));
  const fs::path out = root / "alerts.txt";
  const auto results = host.load({{"minimal", {{"file", out.string()}}}});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].status, guardian::plugins::PluginLoadResult::Status::loaded) << results[0].describe();
  EXPECT_EQ(results[0].version, "0.1.0");
  host.publish({{"kind", "alert"}, {"alert", {{"severity", "critical"}, {"title", "x"}}}});
  host.publish({{"kind", "alert"}, {"alert", {{"severity", "info"}, {"title", "y"}}}});
  host.shutdown(5s);
  const auto lines = guardian::testing::read_lines(out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"title\":\"x\""), std::string::npos);
  EXPECT_EQ(log.count("minimal: 1: minimal plugin ready"), 1u) << log.joined();
  fs::remove_all(root);
}

}  // namespace
