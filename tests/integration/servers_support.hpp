// Helpers for the dev-server integration tests: free ports, a scaled-down guardian.toml,
// a small Python client that plays the "main command" (checks health, kills or freezes
// the server, waits for it to come back), and readers for the run's events.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace guardian::testing::servers {

// A port nobody listens on right now (bound to 0, read back, released).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

inline void write_file(const fs::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
}

// [servers.NAME] with timings scaled down from seconds-to-minutes to a test's seconds;
// `overrides` lines ("key = value") replace or add settings.
inline std::string fast_server_config(const std::string& name, const std::string& overrides = "") {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"probe_interval", "\"200ms\""},   {"probe_timeout", "\"500ms\""},
      {"startup_timeouts", "[\"5s\", \"5s\", \"5s\"]"}, {"restart_delay", "\"100ms\""},
      {"stop_grace", "\"1s\""},         {"unhealthy_after", "2"},
  };
  std::istringstream lines(overrides);
  for (std::string line; std::getline(lines, line);) {
    auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 3);
    bool replaced = false;
    for (auto& [k, v] : settings)
      if (k == key) v = value, replaced = true;
    if (!replaced) settings.emplace_back(key, value);
  }
  std::string text = "[servers." + name + "]\n";
  for (const auto& [k, v] : settings) text += k + " = " + v + "\n";
  return text;
}

inline std::string health_url(int port) { return "http://127.0.0.1:" + std::to_string(port) + "/health"; }

// The main command of the restart tests: checks the server answers, then does ACTION to
// it (kill: SIGKILL, freeze: SIGSTOP, nothing), then waits until a *different* server
// process answers, and exits 0 — the run "goes on". Exit 1 if the server never comes
// back within the bound.
inline constexpr const char* kClientScript = R"PY(
import os, signal, sys, time, urllib.request

url, action, name = sys.argv[1], sys.argv[2], sys.argv[3]

def ok():
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except Exception:
        return False

def server_pids():
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        # Only this run's server (other runs may have a server of the same name).
        if f"GUARDIAN_SERVER_ID={os.environ['GUARDIAN_RUN_ID']}/{name}".encode() in env and state != "Z":
            pids.append(int(entry))
    return pids

if not ok():
    print("client: server not healthy at start", flush=True)
    sys.exit(2)
before = server_pids()
print(f"client: healthy, server pids {before}", flush=True)
if action == "kill":
    for pid in before:
        os.kill(pid, signal.SIGKILL)
elif action == "freeze":
    for pid in before:
        os.kill(pid, signal.SIGSTOP)
print(f"client: {action} done", flush=True)
if action == "nothing":
    sys.exit(0)
def guardian_saw_healthy():
    # guardian's own account (its event log): how many times it found the server healthy.
    try:
        with open(os.path.join(os.environ["GUARDIAN_RUN_DIR"], "events.jsonl")) as f:
            return sum(1 for line in f if '"server.healthy"' in line and f'"server":"{name}"' in line)
    except OSError:
        return 0

deadline = time.monotonic() + 25
while time.monotonic() < deadline:
    now = server_pids()
    if now and not set(now) & set(before) and ok() and guardian_saw_healthy() >= 2:
        print(f"client: back, server pids {now}", flush=True)
        sys.exit(0)
    time.sleep(0.05)
print("client: the server did not come back", flush=True)
sys.exit(1)
)PY";

// Events of the run in `dir` named `event` ("server.down", …), in order.
inline std::vector<Json> events_named(const fs::path& dir, const std::string& event) {
  std::vector<Json> out;
  fs::path run = only_run_dir(dir);
  if (run.empty()) return out;
  for (auto& line : read_json_lines(run / "events.jsonl"))
    if (line.value("event", "") == event) out.push_back(line);
  return out;
}

// Index of the first event named `event` in the run's log, or -1.
inline long first_index(const fs::path& dir, const std::string& event) {
  fs::path run = only_run_dir(dir);
  if (run.empty()) return -1;
  long i = 0;
  for (auto& line : read_json_lines(run / "events.jsonl")) {
    if (line.value("event", "") == event) return i;
    ++i;
  }
  return -1;
}

inline std::vector<Json> alerts_of_type(const fs::path& dir, const std::string& type) {
  std::vector<Json> out;
  fs::path run = only_run_dir(dir);
  if (run.empty()) return out;
  for (auto& line : read_json_lines(run / "alerts.jsonl")) {
    const Json& alert = line.contains("alert") ? line["alert"] : line;
    if (alert.value("type", "") == type) out.push_back(alert);
  }
  return out;
}

}  // namespace guardian::testing::servers
