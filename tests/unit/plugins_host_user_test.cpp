// Whom the plugin host runs as: plugins.user (a name or a uid) before sudo's user, nobody
// unless root, and an unknown user a configuration error that says where it was set.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>

#include "guardian/config/config.hpp"
#include "guardian/plugins/plugin_host_user.hpp"

namespace {

using namespace guardian::plugins;

TEST(PluginHostUser, FindsAUserByNameOrByUid) {
  auto by_name = find_user("nobody");
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(by_name->uid, 65534u);
  EXPECT_EQ(by_name->gid, 65534u);
  auto by_uid = find_user("65534");
  ASSERT_TRUE(by_uid.has_value());
  EXPECT_EQ(by_uid->uid, 65534u);
  EXPECT_FALSE(find_user("no-such-user-guardian").has_value());
  EXPECT_FALSE(find_user("4000000001").has_value());
  EXPECT_FALSE(find_user("").has_value());
}

TEST(PluginHostUser, AnUnknownUserIsOneLineThatSaysWhereAndWhatToDo) {
  try {
    plugin_host_user("no-such-user-guardian", "guardian.toml:3");
    FAIL() << "an unknown plugins.user was accepted";
  } catch (const guardian::config::ConfigError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message,
              "guardian.toml:3: plugins.user: there is no user 'no-such-user-guardian' on this system; name an "
              "existing one (`getent passwd` lists them) or remove the setting.");
  }
}

TEST(PluginHostUser, TheConfiguredUserTakesPrecedenceOverSudosWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "only a root guardian drops the plugin host to another user";
  ::setenv("SUDO_UID", "1", 1);
  ::setenv("SUDO_GID", "1", 1);
  auto sudo = plugin_host_user("", "");
  auto configured = plugin_host_user("nobody", "env GUARDIAN_PLUGINS_USER");
  ::unsetenv("SUDO_UID");
  ::unsetenv("SUDO_GID");
  ASSERT_TRUE(sudo.has_value());
  EXPECT_EQ(sudo->uid, 1u);
  ASSERT_TRUE(configured.has_value());
  EXPECT_EQ(configured->uid, 65534u);
  EXPECT_EQ(configured->gid, 65534u);
}

}  // namespace
