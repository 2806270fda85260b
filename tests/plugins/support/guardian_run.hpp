// GuardianRun: a real `guardian run` for the status API, /metrics, webhook and dashboard
// tests — a temp dir with a guardian.toml (fast monitor checks, the websocket plugin on a
// free port, optionally a dev server that crashes on demand), started in the background,
// with helpers to fetch its HTTP endpoints (validated against JSON schemas) and stop it.
#pragma once

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/subprocess.hpp"

namespace guardian::testing {

inline const std::string kPython = "/usr/bin/python3";

// A TCP port nobody listens on right now (bind to 0, read it, close).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

struct FetchSpec {
  std::string path;  // "/api/monitoring/status?x=1"
  std::string schema;  // file under tests/plugins/schemas, empty = none
  std::string auth;    // Authorization header value
  std::string method = "GET";
};

struct Fetched {
  int status = 0;
  std::string content_type;
  std::string body;
  std::vector<std::string> schema_errors;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

// Fetches a batch of URLs of base with one python process (tests/plugins/fixtures/http_fetch.py).
inline std::vector<Fetched> fetch_all(const std::string& base, const std::vector<FetchSpec>& specs,
                                      const std::filesystem::path& work_dir) {
  nlohmann::json requests = nlohmann::json::array();
  for (const auto& s : specs)
    requests.push_back({{"url", base + s.path}, {"schema", s.schema}, {"auth", s.auth}, {"method", s.method}});
  Subprocess fetch({kPython, std::string(TEST_SOURCE_DIR) + "/fixtures/http_fetch.py", requests.dump(),
                    std::string(TEST_SOURCE_DIR) + "/schemas"},
                   work_dir);
  const auto status = fetch.wait(std::chrono::seconds(60));
  std::vector<Fetched> out;
  if (!status || *status != 0) {
    ADD_FAILURE() << "http_fetch.py failed: " << fetch.stderr_text();
    return std::vector<Fetched>(specs.size());
  }
  for (const auto& r : nlohmann::json::parse(fetch.stdout_text())) {
    Fetched f;
    f.status = r["status"];
    f.content_type = r["content_type"].is_string() ? r["content_type"].get<std::string>() : "";
    f.body = r["body"];
    f.schema_errors = r["schema_errors"].get<std::vector<std::string>>();
    out.push_back(std::move(f));
  }
  return out;
}

class GuardianRun {
 public:
  struct Options {
    std::string token;
    bool with_server = false;        // a dev server "api" that crashes when crash_server() is called
    std::string extra_toml;          // appended to guardian.toml (e.g. a [plugins.webhook] table)
    std::vector<std::string> command;  // default: sleep 120 (the test stops guardian)
  };

  explicit GuardianRun(Options options) : options_(std::move(options)) {
    dir_ = make_temp_dir("guardian-run-");
    std::ofstream toml(dir_ / "guardian.toml");
    // Fast checks at every level so the tests see snapshots and level changes quickly.
    for (const char* level : {"idle", "normal", "intensive", "critical"})
      toml << "[monitor." << level << "]\ncheck_interval = \"200ms\"\nreport_interval = \"1s\"\n";
    toml << "[plugins.websocket]\nport = 0\nport_file = \"" << (dir_ / "ws-port").string()
         << "\"\nsnapshot_interval_ms = 100\n";
    if (!options_.token.empty()) toml << "token = \"" << options_.token << "\"\n";
    if (options_.with_server) {
      server_port_ = free_port();
      toml << "[servers.api]\ncommand = \"" << kPython << " " << TEST_SOURCE_DIR << "/fixtures/flaky_server.py "
           << server_port_ << " " << trigger().string() << "\"\nhealth = \"http://127.0.0.1:" << server_port_
           << "/health\"\nprobe_interval = \"200ms\"\nrestart_delay = \"100ms\"\n";
    }
    toml << options_.extra_toml << "\n";
    toml.close();
    std::vector<std::string> argv{std::string(TEST_PROJECT_BINARY_DIR) + "/bin/guardian", "--config",
                                  (dir_ / "guardian.toml").string(), "run", "--runs-dir", (dir_ / "runs").string(),
                                  "--"};
    if (options_.command.empty()) {
      argv.insert(argv.end(), {"sleep", "120"});
    } else {
      argv.insert(argv.end(), options_.command.begin(), options_.command.end());
    }
    process_ = std::make_unique<Subprocess>(argv, dir_, std::map<std::string, std::string>{
        {"GUARDIAN_PLUGIN_PATH", ""},
        // Our own CI runs with CI=true: the guardian under test must not think it is in CI
        // (mode test, annotations) unless a test says so. Empty = unset.
        {"CI", ""}, {"GITHUB_ACTIONS", ""}, {"GITLAB_CI", ""}, {"GITHUB_STEP_SUMMARY", ""}});
  }

  ~GuardianRun() {
    stop();
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Waits for the websocket plugin to listen (and the server, if any, to be healthy).
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    if (!wait_until([&] { return std::filesystem::exists(dir_ / "ws-port"); }, timeout)) return false;
    port_ = std::stoi(read_file(dir_ / "ws-port"));
    if (!options_.with_server) return true;
    return wait_until(
        [&] {
          auto r = fetch_all(base(), {{"/api/monitoring/status", "", auth_header()}}, dir_);
          if (r.empty() || r[0].status != 200) return false;
          auto j = r[0].json();
          return j["servers"].contains("api") && j["servers"]["api"]["healthy"] == true;
        },
        timeout);
  }

  // Makes the dev server exit at its next health probe (it is restarted and recovers).
  // held: the restarted server answers 503 until release_server(), so the down state lasts
  // as long as the test needs to observe it (a recovery takes ~300 ms otherwise).
  void crash_server(bool held = false) const {
    if (held) std::ofstream(trigger().string() + ".hold") << "hold\n";
    std::ofstream(trigger()) << "crash\n";
  }
  void release_server() const { std::filesystem::remove(trigger().string() + ".hold"); }

  // SIGTERM, then wait for guardian to finish (it closes WebSocket clients with 1001).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    if (!process_ || stopped_) return std::nullopt;
    stopped_ = true;
    process_->kill(SIGTERM);
    return process_->wait(timeout);
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  std::string auth_header() const { return options_.token.empty() ? "" : "Bearer " + options_.token; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string output() const { return process_ ? process_->stdout_text() + process_->stderr_text() : ""; }
  std::vector<Fetched> fetch(const std::vector<FetchSpec>& specs) const { return fetch_all(base(), specs, dir_); }
  Fetched get(const std::string& path, const std::string& schema = "") const {
    return fetch({{path, schema, auth_header()}}).at(0);
  }

 private:
  std::filesystem::path trigger() const { return dir_ / "crash-trigger"; }

  Options options_;
  std::filesystem::path dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
  int server_port_ = 0;
  bool stopped_ = false;
};

}  // namespace guardian::testing
