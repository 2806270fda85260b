// Issue 14: plugins run in their own process. A plugin that takes that process down on its
// first event — a segfault, abort(), an allocation without bound — beside jsonfile and
// websocket: the run ends with the command's own exit code, report.json names the crashed
// plugin and its signal, jsonfile still writes the alert file, a WebSocket client still gets
// the alert, and nothing is left running. Also: a root run for a sudo user runs the plugin
// host as that user (or as plugins.user, which comes first; an unknown one is a usage error),
// and a misspelt plugin key is a usage error (exit 125, "did you mean").
#include <gtest/gtest.h>

#include <map>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <nlohmann/json.hpp>

#include "support/subprocess.hpp"

namespace {

using guardian::testing::read_file;
using guardian::testing::read_lines;
using guardian::testing::Subprocess;
using guardian::testing::wait_until;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::map<std::string, std::string> no_ci{
    {"CI", ""}, {"GITHUB_ACTIONS", ""}, {"GITLAB_CI", ""}, {"GITHUB_STEP_SUMMARY", ""}, {"DBUS_SESSION_BUS_ADDRESS", ""}};

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Processes (not this test) whose NUL-separated command line contains text.
std::vector<pid_t> processes_mentioning(const std::string& text) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(text) != std::string::npos && std::stoi(name) != ::getpid()) found.push_back(std::stoi(name));
  }
  return found;
}

// Pids of plugin host processes started by the guardian with this pid (their argv says so).
std::vector<pid_t> plugin_hosts_of(pid_t guardian_pid) {
  return processes_mentioning(std::string("__plugin-host") + '\0' + "3" + '\0' + std::to_string(guardian_pid) + '\0');
}

fs::path only_run_dir(const fs::path& runs) {
  fs::path run_dir;
  for (const auto& entry : fs::directory_iterator(runs))
    if (entry.is_directory()) run_dir = entry.path();  // the runs directory also holds its .gitignore
  return run_dir;
}

struct Crash {
  const char* plugin;
  const char* signal;
};

class PluginCrash : public ::testing::TestWithParam<Crash> {};

TEST_P(PluginCrash, IsALineAndTheRunGoesOnWithTheOtherPlugins) {
  const auto [plugin, signal] = GetParam();
  const fs::path root = guardian::testing::make_temp_dir("guardian-crash-");
  const fs::path alerts_dir = root / "alerts";
  const fs::path port_file = root / "ws.port";
  const int port = free_port();
  std::ofstream(root / "guardian.toml") << "[plugins.jsonfile]\ndirectory = \"" << alerts_dir.string() << "\"\n"
                                        << "[plugins.websocket]\nport = " << port << "\nport_file = \""
                                        << port_file.string() << "\"\n"
                                        << "[plugins." << plugin << "]\n";
  // The payload waits until the WebSocket client is connected (it creates `go`), then
  // allocates past the 64 MiB ceiling: a MEMORY_CEILING_KILL alert and exit 137.
  const fs::path go = root / "go";
  const std::string payload = "while [ ! -e '" + go.string() + "' ]; do sleep 0.05; done; exec '" +
                              std::string(TEST_TARGET_BINARY) + "' alloc 400 30";
  auto env = no_ci;
  env["GUARDIAN_PLUGIN_PATH"] = TEST_CRASH_PLUGIN_DIR;
  const fs::path guardian_out = root / "guardian";
  fs::create_directories(guardian_out);
  Subprocess guardian({TEST_GUARDIAN_BINARY, "run", "--config", (root / "guardian.toml").string(), "--runs-dir",
                       (root / "runs").string(), "--memory", "64M", "--", "sh", "-c", payload},
                      guardian_out, env);

  // The crash is one line that names the plugin.
  const std::string named = std::string("plugin '") + plugin + "' crashed";
  ASSERT_TRUE(wait_until([&] { return guardian.stderr_text().find(named) != std::string::npos; }, 30s))
      << guardian.stderr_text();

  // The restarted host serves the WebSocket again (same port): connect a real client.
  const fs::path ws_messages = root / "ws.jsonl";
  std::unique_ptr<Subprocess> client;
  const auto connect_deadline = std::chrono::steady_clock::now() + 30s;
  int attempt = 0;
  while (std::chrono::steady_clock::now() < connect_deadline) {
    const fs::path client_out = root / ("client" + std::to_string(attempt++));
    fs::create_directories(client_out);
    client = std::make_unique<Subprocess>(
        std::vector<std::string>{"/usr/bin/python3", std::string(TEST_SOURCE_DIR) + "/ws_listen.py",
                                 "ws://127.0.0.1:" + std::to_string(port) + "/ws", ws_messages.string()},
        client_out);
    if (wait_until([&] { return client->stdout_text().find("connected") != std::string::npos; }, 5s)) break;
    client.reset();
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(client) << "no WebSocket after the host's restart: " << guardian.stderr_text();
  std::ofstream(go).put('\n');

  const auto status = guardian.wait(60s);
  ASSERT_TRUE(status.has_value()) << "guardian did not end: " << guardian.stderr_text();
  ASSERT_TRUE(WIFEXITED(*status)) << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 137) << guardian.stderr_text();  // the command's outcome, as without the plugin
  ASSERT_TRUE(client->wait(20s).has_value()) << "the WebSocket stayed open after guardian ended";

  // report.json: written, the same exit code, the crashed plugin and its signal.
  const fs::path run_dir = only_run_dir(root / "runs");
  const auto report = nlohmann::json::parse(read_file(run_dir / "report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object()) << read_file(run_dir / "report.json");
  EXPECT_EQ(report.value("exit_code", -1), 137);
  bool crashed = false;
  bool others_ran = true;
  for (const auto& entry : report.value("plugins", nlohmann::json::array())) {
    if (entry.value("name", "") == plugin)
      crashed = entry.value("state", "") == "crashed" && entry.value("signal", "") == signal;
    else if (entry.value("name", "") == "jsonfile" || entry.value("name", "") == "websocket")
      others_ran = others_ran && entry.value("state", "") == "stopped";
  }
  EXPECT_TRUE(crashed) << report.dump(2);
  EXPECT_TRUE(others_ran) << report.dump(2);

  // jsonfile still wrote the alert file; the WebSocket client still got the alert.
  bool file_written = false;
  if (fs::is_directory(alerts_dir))
    for (const auto& entry : fs::directory_iterator(alerts_dir))
      file_written = file_written || entry.path().filename().string().find("_MEMORY_CEILING_KILL.json") != std::string::npos;
  EXPECT_TRUE(file_written) << guardian.stderr_text();
  bool pushed = false;
  for (const auto& line : read_lines(ws_messages)) pushed = pushed || line.find("MEMORY_CEILING_KILL") != std::string::npos;
  EXPECT_TRUE(pushed) << read_file(ws_messages);

  // Nothing left running: no plugin host, no part of the command.
  EXPECT_TRUE(plugin_hosts_of(guardian.pid()).empty());
  EXPECT_TRUE(processes_mentioning(go.string()).empty());
  fs::remove_all(root);
}

INSTANTIATE_TEST_SUITE_P(Plugins, PluginCrash,
                         ::testing::Values(Crash{"crash_segv", "SIGSEGV"}, Crash{"crash_abort", "SIGABRT"},
                                           Crash{"crash_alloc", "SIGSEGV"}),
                         [](const auto& test) { return std::string(test.param.plugin); });

// Two plugins in a call at once, and the one that crashes is not the one that announced its
// call last: crash_late aborts 1.5 s into its first call; busy_later finished its first call
// and, 0.3 s later, began a second that never returns. The host's own signal handler names
// crash_late; going by the last announcement would blame (and switch off) busy_later.
TEST(PluginCrashBlame, NamesThePluginWhoseThreadCrashedNotTheLastOneCalled) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-blame-");
  std::ofstream(root / "guardian.toml") << "[plugins.crash_late]\n[plugins.busy_later]\n";
  auto env = no_ci;
  env["GUARDIAN_PLUGIN_PATH"] = TEST_CRASH_PLUGIN_DIR;
  const fs::path guardian_out = root / "guardian";
  fs::create_directories(guardian_out);
  // run_started reaches both at once; the command's end (run_finished) comes 0.3 s later.
  Subprocess guardian({TEST_GUARDIAN_BINARY, "run", "--config", (root / "guardian.toml").string(), "--runs-dir",
                       (root / "runs").string(), "--", "sleep", "0.3"},
                      guardian_out, env);
  const auto status = guardian.wait(60s);
  ASSERT_TRUE(status.has_value()) << guardian.stderr_text();
  EXPECT_EQ(WEXITSTATUS(*status), 0) << guardian.stderr_text();
  EXPECT_NE(guardian.stderr_text().find("plugin 'crash_late' crashed"), std::string::npos) << guardian.stderr_text();
  EXPECT_EQ(guardian.stderr_text().find("plugin 'busy_later' crashed"), std::string::npos) << guardian.stderr_text();
  const auto report = nlohmann::json::parse(read_file(only_run_dir(root / "runs") / "report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object());
  std::map<std::string, std::string> states;
  for (const auto& entry : report.value("plugins", nlohmann::json::array()))
    states[entry.value("name", "")] = entry.value("state", "") + " " + entry.value("signal", "");
  EXPECT_EQ(states["crash_late"], "crashed SIGABRT") << report["plugins"].dump(2);
  EXPECT_NE(states["busy_later"].rfind("crashed", 0), 0u) << report["plugins"].dump(2);
  fs::remove_all(root);
}

// The Uid: and Gid: lines of /proc/<plugin host>/status and its address-space limit during a
// run with this extra configuration and environment, once the host has dropped to expected_uid
// and capped its memory (it does both after reading its load message); checks on the way that
// the host holds nothing but its socket.
struct HostView {
  std::string uids;
  std::string gids;
  std::string address_space_limit;  // the "Max address space" line of /proc/<pid>/limits
};
HostView plugin_host_during_run(const std::string& extra_toml, const std::map<std::string, std::string>& extra_env,
                                const std::string& expected_uid) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-runas-");
  ::chmod(root.c_str(), 0755);
  const fs::path alerts_dir = root / "alerts";
  fs::create_directories(alerts_dir);
  ::chmod(alerts_dir.c_str(), 0777);
  std::ofstream(root / "guardian.toml") << extra_toml << "[plugins.jsonfile]\ndirectory = \"" << alerts_dir.string()
                                        << "\"\n";
  const fs::path go = root / "go";
  auto env = no_ci;
  for (const auto& [name, value] : extra_env) env[name] = value;
  const fs::path guardian_out = root / "guardian";
  fs::create_directories(guardian_out);
  Subprocess guardian({TEST_GUARDIAN_BINARY, "run", "--config", (root / "guardian.toml").string(), "--runs-dir",
                       (root / "runs").string(), "--", "sh", "-c",
                       "while [ ! -e '" + go.string() + "' ]; do sleep 0.05; done"},
                      guardian_out, env);
  HostView ids;
  std::vector<pid_t> hosts;
  EXPECT_TRUE(wait_until([&] { return !(hosts = plugin_hosts_of(guardian.pid())).empty(); }, 30s))
      << guardian.stderr_text();
  if (!hosts.empty()) {
    // The host drops privileges once it has read its load message: wait for the change.
    wait_until(
        [&] {
          for (const auto& line : read_lines("/proc/" + std::to_string(hosts[0]) + "/status")) {
            if (line.rfind("Uid:", 0) == 0) ids.uids = line;
            if (line.rfind("Gid:", 0) == 0) ids.gids = line;
          }
          for (const auto& line : read_lines("/proc/" + std::to_string(hosts[0]) + "/limits"))
            if (line.rfind("Max address space", 0) == 0) ids.address_space_limit = line;
          return ids.uids.find(expected_uid) != std::string::npos &&
                 ids.address_space_limit.find("unlimited") == std::string::npos;
        },
        10s);
    // Only its socket (and stdin/stdout/stderr) is open in it: no pidfd, no sentinel pipe.
    std::string listed;
    for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(hosts[0]) + "/fd")) {
      const auto name = entry.path().filename().string();
      if (name != "0" && name != "1" && name != "2") listed += name + " -> " + fs::read_symlink(entry.path()).string() + "\n";
    }
    EXPECT_NE(listed.find("3 -> socket:"), std::string::npos) << listed;
    for (const char* forbidden : {"pidfd", "pipe:", "cgroup", "events.sock"})
      EXPECT_EQ(listed.find(forbidden), std::string::npos) << forbidden << " open in the plugin host:\n" << listed;
  }
  std::ofstream(go).put('\n');
  const auto status = guardian.wait(60s);
  EXPECT_TRUE(status.has_value()) << guardian.stderr_text();
  if (status) {
    EXPECT_EQ(WEXITSTATUS(*status), 0) << guardian.stderr_text();
  }
  fs::remove_all(root);
  return ids;
}

// Issue 17: with no [plugins.*] table the plugin host starts at the run's first alert, not
// at its start. Its start must never stall supervision: here the (default) jsonfile plugin
// takes 3 s to open while a 2-thread spinner is held at 0.1 cores by the /proc watchdog,
// whose first CPU alert starts the host. Waiting for the host on the event loop let the
// spinner run free for those 3 s (≈ 1 core on average instead of 0.1).
TEST(DeferredPluginHost, ASlowPluginHostNeverStallsTheWatchdog) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-slowhost-");
  std::ofstream(root / "guardian.toml") << "# no [plugins.*] table: the host waits for the first alert\n";
  auto env = no_ci;
  env["GUARDIAN_PLUGIN_PATH"] = TEST_SLOW_OPEN_PLUGIN_DIR;
  Subprocess guardian({TEST_GUARDIAN_BINARY, "run", "--config", (root / "guardian.toml").string(), "--runs-dir",
                       (root / "runs").string(), "--limits-backend", "watchdog", "--cpu", "0.1", "--",
                       TEST_TARGET_BINARY, "spin", "2", "6"},
                      root, env);
  const auto status = guardian.wait(60s);
  ASSERT_TRUE(status.has_value()) << guardian.stderr_text();
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status << guardian.stderr_text();
  const fs::path run_dir = only_run_dir(root / "runs");
  const auto report = nlohmann::json::parse(read_file(run_dir / "report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object()) << read_file(run_dir / "report.json");
  const double cores = report["resources"].value("cpu_time_ms", 0) / 6000.0;
  EXPECT_NEAR(cores, 0.1, 0.04) << "the spinner ran free while the plugin host started\n" << report.dump(2);

  // The slow host did start, at an alert, and its plugin was loaded ≥ 2.5 s after that alert
  // (so the run above went on while it opened).
  const auto first_alert = nlohmann::json::parse(read_lines(run_dir / "alerts.jsonl").at(0), nullptr, false);
  ASSERT_TRUE(first_alert.is_object()) << read_file(run_dir / "alerts.jsonl");
  std::string loaded_at;  // "2026-12-02T21:18:15.257+00:00"
  for (const auto& line : read_lines(run_dir / "events.jsonl")) {
    const auto event = nlohmann::json::parse(line, nullptr, false);
    if (event.value("event", "") == "plugin.loaded") loaded_at = event.value("ts", "");
  }
  ASSERT_FALSE(loaded_at.empty()) << "the default jsonfile plugin never loaded\n" << read_file(run_dir / "events.jsonl");
  std::tm parts{};
  std::istringstream(loaded_at) >> std::get_time(&parts, "%Y-%m-%dT%H:%M:%S");
  const long long loaded_ms = static_cast<long long>(::timegm(&parts)) * 1000 + std::stoi(loaded_at.substr(20, 3));
  EXPECT_GE(loaded_ms - first_alert.value("ts_unix_ms", 0LL), 2500) << loaded_at << " " << first_alert.dump();
  EXPECT_NE(report.value("plugins", nlohmann::json()).dump().find("jsonfile"), std::string::npos) << report.dump(2);
}

TEST(PluginHostProcess, RunsAsTheSudoUserWhenGuardianIsRoot) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root: a root run for a sudo user is what it tests";
  const auto ids = plugin_host_during_run("", {{"SUDO_UID", "65534"}, {"SUDO_GID", "65534"}}, "65534");
  EXPECT_EQ(ids.uids, "Uid:\t65534\t65534\t65534\t65534");
  EXPECT_EQ(ids.gids, "Gid:\t65534\t65534\t65534\t65534");
}

// plugins.user names the host's user, before sudo's (here daemon, uid 1).
TEST(PluginHostProcess, RunsAsTheConfiguredUserBeforeTheSudoUser) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root: a root run with plugins.user is what it tests";
  const auto ids = plugin_host_during_run("[plugins]\nuser = \"nobody\"\n", {{"SUDO_UID", "1"}, {"SUDO_GID", "1"}},
                                          "65534");
  EXPECT_EQ(ids.uids, "Uid:\t65534\t65534\t65534\t65534");
  EXPECT_EQ(ids.gids, "Gid:\t65534\t65534\t65534\t65534");
}

// What ends crash_alloc's allocation loop: the host's own RLIMIT_AS (2 GiB). The crash test
// shows the outcome (PLUGIN_CRASHED, the run goes on); this shows that the bound is the
// host's own, not whatever the machine refuses first.
TEST(PluginHostProcess, CapsItsOwnAddressSpace) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "under AddressSanitizer the host sets no RLIMIT_AS (ASan reserves terabytes of shadow memory)";
#endif
  const auto ids = plugin_host_during_run("", {}, "");
  EXPECT_EQ(ids.address_space_limit,
            "Max address space         2147483648           2147483648           bytes     ");
}

TEST(PluginConfig, AnUnknownPluginsUserIsAUsageErrorBeforeAnythingStarts) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-nouser-");
  const fs::path marker = root / "ran";
  auto env = no_ci;
  env["GUARDIAN_PLUGINS_USER"] = "no-such-user-guardian";
  std::ofstream(root / "guardian.toml") << "[plugins.jsonfile]\n";
  Subprocess guardian({TEST_GUARDIAN_BINARY, "run", "--config", (root / "guardian.toml").string(), "--runs-dir", (root / "runs").string(), "--", "touch",
                       marker.string()},
                      root, env);
  const auto status = guardian.wait(30s);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 125) << guardian.stderr_text();
  EXPECT_EQ(guardian.stderr_text(),
            "guardian: env GUARDIAN_PLUGINS_USER: plugins.user: there is no user 'no-such-user-guardian' on this "
            "system; name an existing one (`getent passwd` lists them) or remove the setting. Nothing was started.\n");
  EXPECT_FALSE(fs::exists(marker)) << "the command ran although the configuration was refused";
  EXPECT_FALSE(fs::exists(root / "runs")) << "a run directory was created for a refused configuration";
  fs::remove_all(root);
}

TEST(PluginConfig, AMisspeltKeyIsAUsageErrorThatNamesTheKnownKey) {
  const fs::path root = guardian::testing::make_temp_dir("guardian-typo-");
  std::ofstream(root / "guardian.toml") << "[plugins.jsonfile]\nmax_filez = 3\n";
  const fs::path marker = root / "ran";
  Subprocess guardian({TEST_GUARDIAN_BINARY, "run", "--config", (root / "guardian.toml").string(), "--runs-dir",
                       (root / "runs").string(), "--", "touch", marker.string()},
                      root, no_ci);
  const auto status = guardian.wait(30s);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 125) << guardian.stderr_text();
  EXPECT_NE(guardian.stderr_text().find("did you mean 'max_files'"), std::string::npos) << guardian.stderr_text();
  EXPECT_FALSE(fs::exists(marker)) << "the command ran although the configuration was refused";
  fs::remove_all(root);
}

}  // namespace
