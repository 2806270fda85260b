// servers.* settings through the schema into a ServerSpec: defaults per server, flags'
// names, errors that name the key and the fix.
#include <gtest/gtest.h>

#include <csignal>

#include "adapters/uvicorn/uvicorn_adapter.hpp"
#include "guardian/config/config.hpp"
#include "guardian/servers/server_spec.hpp"

namespace guardian::servers {
namespace {

using namespace std::chrono_literals;
using config::Config;
using config::ConfigError;
using config::Origin;

Origin from_file() { return Origin{Origin::Layer::file, "guardian.toml:1"}; }

TEST(ServerSpec, DefaultsApplyToEveryServer) {
  Config config = Config::defaults();
  config.set("servers.api.command", "uvicorn app:app --port 8000", from_file());
  config.set("servers.api.health", "http://127.0.0.1:8000/health", from_file());
  auto specs = ServerSpec::all_from_config(config);
  ASSERT_EQ(specs.size(), 1u);
  const auto& spec = specs[0];
  EXPECT_EQ(spec.name, "api");
  // A simple command is exec'd: the server is the root process, signals reach it directly.
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/bin/sh", "-c", "exec uvicorn app:app --port 8000"}));
  EXPECT_EQ(spec.lifecycle.startup_timeouts, (std::vector<std::chrono::milliseconds>{90s, 120s, 180s, 240s}));
  EXPECT_EQ(spec.lifecycle.unhealthy_after, 3u);
  EXPECT_EQ(spec.lifecycle.stable_uptime, 60s);
  EXPECT_EQ(spec.lifecycle.breaker_failures, 5u);
  EXPECT_EQ(spec.lifecycle.breaker_window, 600s);
  EXPECT_EQ(spec.lifecycle.restart, health::RestartPolicy::always);
  EXPECT_EQ(spec.slow.warning, 500ms);
  EXPECT_EQ(spec.slow.critical, 800ms);
  EXPECT_EQ(spec.probe_timeout, 1s) << "a hung server must be down within 5 s by default";
  EXPECT_EQ(spec.lifecycle.flap_downs, 3u);
  EXPECT_EQ(spec.lifecycle.flap_window, 120s);
  EXPECT_FALSE(spec.pinned_probe_interval.has_value()) << "the monitor level decides by default";
  EXPECT_TRUE(spec.uvicorn);
  EXPECT_EQ(spec.stop_signals, (std::vector<int>{SIGINT, SIGTERM}));  // uvicorn's graceful stop
  ASSERT_TRUE(spec.probe.has_value());
  EXPECT_TRUE(std::holds_alternative<health::HttpTarget>(*spec.probe));
}

TEST(ServerSpec, UvicornReloadIsStoppedThroughItsReloader) {
  Config config = Config::defaults();
  config.set("servers.api.command", "/usr/bin/python3 -m uvicorn app:app --reload", from_file());
  auto spec = ServerSpec::from_config(config, "api");
  EXPECT_TRUE(spec.uvicorn);
  EXPECT_TRUE(spec.signal_root_first) << "SIGINT to the reloader only; it stops its worker";
  config.set("servers.api.command", "/usr/bin/python3 -m uvicorn app:app", from_file());
  EXPECT_FALSE(ServerSpec::from_config(config, "api").signal_root_first);
}

TEST(ServerSpec, SettingsScaleDownPerServer) {
  Config config = Config::defaults();
  config.set("servers.web.command", "node server.js", from_file());
  config.set("servers.web.startup_timeouts", "1s,2s,3s", from_file());
  config.set("servers.web.probe_interval", "200ms", from_file());
  config.set("servers.web.restart", "on-failure", from_file());
  config.set("servers.web.stop_signal", "SIGQUIT", from_file());
  auto spec = ServerSpec::from_config(config, "web");
  EXPECT_EQ(spec.lifecycle.startup_timeouts, (std::vector<std::chrono::milliseconds>{1s, 2s, 3s}));
  EXPECT_EQ(spec.pinned_probe_interval, 200ms);
  EXPECT_EQ(spec.lifecycle.restart, health::RestartPolicy::on_failure);
  EXPECT_EQ(spec.stop_signals, (std::vector<int>{SIGQUIT, SIGTERM}));
  EXPECT_FALSE(spec.probe.has_value());
  EXPECT_FALSE(spec.uvicorn);
}

TEST(ServerSpec, ShellSyntaxRunsAsWritten) {
  Config config = Config::defaults();
  for (std::string command : {"cd app && uvicorn main:app", "PORT=1 node s.js", "a | b", "if true; then x; fi"}) {
    config.set("servers.s.command", command, from_file());
    EXPECT_EQ(ServerSpec::from_config(config, "s").argv[2], command);
  }
}

TEST(ServerSpec, MissingCommandSaysHowToGiveOne) {
  Config config = Config::defaults();
  config.set("servers.api.health", "http://127.0.0.1:8000/health", from_file());
  try {
    ServerSpec::from_config(config, "api");
    FAIL() << "no command must be an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--server api="), std::string::npos) << e.what();
  }
}

TEST(ServerSpec, BadHealthCheckNamesTheKeyAndTheForms) {
  Config config = Config::defaults();
  config.set("servers.api.command", "x", from_file());
  config.set("servers.api.health", "localhost:8000", from_file());
  try {
    ServerSpec::from_config(config, "api");
    FAIL() << "a bad health check must be an error";
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("servers.api.health"), std::string::npos) << what;
    EXPECT_NE(what.find("http://"), std::string::npos) << what;
  }
}

TEST(ServerSpec, SchemaValidatesServerKeys) {
  Config config = Config::defaults();
  EXPECT_THROW(config.set("servers.api.restart", "sometimes", from_file()), ConfigError);
  EXPECT_THROW(config.set("servers.api.startup_timeouts", "90s,soon", from_file()), ConfigError);
  EXPECT_THROW(config.set("servers.api.unhealthy_after", "three", from_file()), ConfigError);
  EXPECT_THROW(config.set("servers.api.no_such_key", "1", from_file()), ConfigError);
}

TEST(ServerSpec, CommandGivenAsArgvIsLookedUp) {
  Config config = Config::defaults();
  auto spec = ServerSpec::from_config(config, "server", std::vector<std::string>{"sh", "-c", "true"});
  EXPECT_EQ(spec.argv[0], "sh");
  EXPECT_TRUE(spec.program.is_absolute());
  EXPECT_THROW(ServerSpec::from_config(config, "server", std::vector<std::string>{"no-such-program-h5"}), ConfigError);
  EXPECT_THROW(ServerSpec::from_config(config, "bad name", std::vector<std::string>{"sh"}), ConfigError);
}

}  // namespace
}  // namespace guardian::servers

namespace guardian::servers {
namespace {

// The reloader's announcement, as uvicorn 0.17 (Debian 12) prints it with each reloader, and
// lines that only look alike.
TEST(UvicornReload, TheReloadersAnnouncementIsRecognised) {
  using adapters::uvicorn::announces_reload;
  EXPECT_TRUE(announces_reload("WARNING:  StatReload detected file change in 'app.py'. Reloading..."));
  EXPECT_TRUE(announces_reload("WARNING:  WatchFiles detected changes in 'app.py'. Reloading..."));
  EXPECT_FALSE(announces_reload("INFO:     Started reloader process [4242] using StatReload"));
  EXPECT_FALSE(announces_reload("INFO:     127.0.0.1:5000 - \"GET /Reloading... HTTP/1.1\" 200 OK"));
}

}  // namespace
}  // namespace guardian::servers
