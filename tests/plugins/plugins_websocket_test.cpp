// The real websocket plugin against real python3-websockets clients.
#include <gtest/gtest.h>

#include <csignal>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_runner.hpp"
#include "support/captured_log.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::plugins::PluginRunner;
using guardian::plugins::PluginLoadResult;
using guardian::testing::CapturedLog;
using guardian::testing::Subprocess;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string python = "/usr/bin/python3";
const std::string client_script = std::string(TEST_SOURCE_DIR) + "/ws_client.py";

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = guardian::testing::make_temp_dir("guardian-ws-"); }
  void TearDown() override {
    host_.reset();
    fs::remove_all(root_);
  }

  // Starts the plugin on a free port; returns the load result.
  PluginLoadResult start(nlohmann::json config) {
    config["port"] = 0;
    config["port_file"] = (root_ / "port").string();
    host_ = std::make_unique<PluginRunner>(guardian::testing::isolated_options({TEST_BUNDLED_PLUGIN_DIR}, log_));
    for (auto& r : host_->load({{"websocket", config}})) {
      if (r.name == "websocket") {
        if (r.status == PluginLoadResult::Status::loaded) {
          port_ = std::stoi(guardian::testing::read_file(root_ / "port"));
        }
        return r;
      }
    }
    return {};
  }

  std::string url(const std::string& query = "") const {
    return "ws://127.0.0.1:" + std::to_string(port_) + "/ws" + query;
  }

  void publish_events(int from, int to, std::size_t padding = 0) {
    const std::string pad(padding, 'p');
    for (int seq = from; seq < to; ++seq) {
      host_->publish({{"kind", "alert"}, {"ts", "t"}, {"run_id", "r"}, {"seq", seq}, {"pad", pad}});
    }
  }

  std::string try_connect(const std::string& target_url, const std::string& origin = "") {
    std::vector<std::string> argv{python, client_script, "try", target_url};
    if (!origin.empty()) argv.push_back(origin);
    Subprocess client(argv, root_);
    EXPECT_TRUE(client.wait(30s).has_value());
    return client.stdout_text() + client.stderr_text();
  }

  fs::path root_;
  CapturedLog log_;
  std::unique_ptr<PluginRunner> host_;
  int port_ = 0;
};

TEST_F(WebSocketTest, TenClientsReceiveEveryEventInOrderThenClose1001) {
  ASSERT_EQ(start({}).status, PluginLoadResult::Status::loaded) << log_.joined();
  constexpr int events = 500;
  Subprocess clients({python, client_script, "receive", url(), "10", std::to_string(events),
                      (root_ / "ready").string(), (root_ / "out.json").string()},
                     root_);
  ASSERT_TRUE(guardian::testing::wait_until([&] { return fs::exists(root_ / "ready"); }, 30s)) << clients.stderr_text();
  publish_events(0, events);
  // Clients stay connected after the last event: the host's shutdown must close them with 1001.
  ASSERT_TRUE(guardian::testing::wait_until(
      [&] { return host_->stats()["websocket"]["delivered"] == events && host_->stats()["websocket"]["queued"] == 0; },
      30s));
  std::this_thread::sleep_for(200ms);
  host_->shutdown(5s);
  const auto status = clients.wait(30s);
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(WEXITSTATUS(*status), 0) << clients.stderr_text();
  const auto out = nlohmann::json::parse(guardian::testing::read_file(root_ / "out.json"));
  ASSERT_EQ(out["clients"].size(), 10u);
  std::vector<int> expected(events);
  for (int i = 0; i < events; ++i) expected[i] = i;
  for (const auto& client : out["clients"]) {
    EXPECT_EQ(client["seqs"].get<std::vector<int>>(), expected);
    EXPECT_EQ(client["close_code"], 1001);
  }
}

TEST_F(WebSocketTest, StalledClientIsDroppedWhileOthersKeepReceiving) {
  ASSERT_EQ(start({{"max_queue_messages", 1024}}).status, PluginLoadResult::Status::loaded) << log_.joined();
  Subprocess stalled({python, client_script, "stall", url(), (root_ / "stalled-ready").string()}, root_);
  ASSERT_TRUE(guardian::testing::wait_until([&] { return fs::exists(root_ / "stalled-ready"); }, 30s))
      << stalled.stderr_text();
  constexpr int events = 5000;
  Subprocess clients({python, client_script, "receive", url(), "3", std::to_string(events),
                      (root_ / "ready").string(), (root_ / "out.json").string()},
                     root_);
  ASSERT_TRUE(guardian::testing::wait_until([&] { return fs::exists(root_ / "ready"); }, 30s)) << clients.stderr_text();
  // ~4 KB events at ~1000/s, a pace reading clients keep up with even on a loaded machine
  // (they may fall up to 1024 messages behind): the stalled client's socket buffers fill,
  // then its queue of 1024, then it is dropped.
  for (int batch = 0; batch < events; batch += 10) {
    publish_events(batch, batch + 10, 4096);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(guardian::testing::wait_until([&] { return log_.count("dropped WebSocket client") == 1; }, 30s))
      << log_.joined();
  ASSERT_TRUE(guardian::testing::wait_until(
      [&] { return host_->stats()["websocket"]["delivered"] == events; }, 30s));
  std::this_thread::sleep_for(200ms);
  host_->shutdown(5s);
  const auto status = clients.wait(60s);
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(WEXITSTATUS(*status), 0) << clients.stderr_text();
  const auto out = nlohmann::json::parse(guardian::testing::read_file(root_ / "out.json"));
  for (const auto& client : out["clients"]) {
    const auto seqs = client["seqs"].get<std::vector<int>>();
    ASSERT_EQ(seqs.size(), static_cast<std::size_t>(events));
    for (int i = 0; i < events; ++i) ASSERT_EQ(seqs[i], i);
  }
}

TEST_F(WebSocketTest, TokenIsCheckedOnTheUpgrade) {
  ASSERT_EQ(start({{"token", "s3cret"}}).status, PluginLoadResult::Status::loaded) << log_.joined();
  EXPECT_EQ(try_connect(url()), "refused 401\n");
  EXPECT_EQ(try_connect(url("?token=wrong")), "refused 401\n");
  EXPECT_EQ(try_connect(url("?token=s3cret")), "accepted\n");
}

TEST_F(WebSocketTest, ForeignBrowserOriginIsRefused) {
  ASSERT_EQ(start({{"allowed_origins", {"http://dashboard.example:3000"}}}).status, PluginLoadResult::Status::loaded);
  EXPECT_EQ(try_connect(url(), "http://evil.example"), "refused 403\n");
  EXPECT_EQ(try_connect(url(), "http://dashboard.example:3000"), "accepted\n");
  EXPECT_EQ(try_connect(url(), "http://127.0.0.1:" + std::to_string(port_)), "accepted\n") << "same origin";
  EXPECT_EQ(log_.count("Origin 'http://evil.example'"), 1u) << log_.joined();
}

TEST_F(WebSocketTest, ListeningBeyondLoopbackRequiresAToken) {
  const auto refused = start({{"host", "0.0.0.0"}});
  EXPECT_EQ(refused.status, PluginLoadResult::Status::failed);
  EXPECT_NE(refused.message.find("requires a token"), std::string::npos) << refused.message;
  host_.reset();
  // With a token it listens (the test talks to it on loopback only).
  ASSERT_EQ(start({{"host", "0.0.0.0"}, {"token", "t0ken"}}).status, PluginLoadResult::Status::loaded);
  EXPECT_EQ(try_connect(url()), "refused 401\n");
  EXPECT_EQ(try_connect(url("?token=t0ken")), "accepted\n");
}

TEST_F(WebSocketTest, HttpStatusRouteAnswersThroughTheHostQuery) {
  ASSERT_EQ(start({{"token", "tk"}}).status, PluginLoadResult::Status::loaded);
  host_->set_query_handler([](const nlohmann::json& what) { return nlohmann::json{{"answer_to", what["what"]}}; });
  const std::string base = "http://127.0.0.1:" + std::to_string(port_);
  auto fetch = [&](const std::string& path) {
    Subprocess curl({python, "-c",
                     "import sys, urllib.request, urllib.error\n"
                     "try:\n  r = urllib.request.urlopen(sys.argv[1]); print(r.status, r.read().decode())\n"
                     "except urllib.error.HTTPError as e: print(e.code, e.read().decode())\n",
                     base + path},
                    root_);
    EXPECT_TRUE(curl.wait(30s).has_value());
    return curl.stdout_text();
  };
  EXPECT_EQ(fetch("/healthz"), "200 {\"ok\":true}\n");
  EXPECT_EQ(fetch("/api/status").substr(0, 3), "401");
  EXPECT_EQ(fetch("/api/status?token=tk"), "200 {\"answer_to\":\"status\"}\n");
  EXPECT_EQ(fetch("/nope").substr(0, 3), "404");
}

// A real HTTP client (python's http.client) sending what careless or hostile clients send.
std::string http_exchange(const fs::path& dir, int port, const std::string& method, const std::string& path,
                          const std::string& header_name, const std::string& header_value, std::size_t body_bytes) {
  Subprocess client({python, "-c",
                     "import sys, http.client\n"
                     "c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=20)\n"
                     "body = b'x' * int(sys.argv[6])\n"
                     "headers = {sys.argv[4]: sys.argv[5]} if sys.argv[4] else {}\n"
                     "try:\n"
                     "  c.request(sys.argv[2], sys.argv[3], body=body or None, headers=headers)\n"
                     "  r = c.getresponse(); print(r.status, r.read().decode())\n"
                     "except Exception as e: print('no answer:', type(e).__name__, e)\n",
                     std::to_string(port), method, path, header_name, header_value, std::to_string(body_bytes)},
                    dir);
  EXPECT_TRUE(client.wait(30s).has_value());
  return client.stdout_text();
}

TEST_F(WebSocketTest, BearerSchemeIsCaseInsensitive) {
  ASSERT_EQ(start({{"token", "tk"}}).status, PluginLoadResult::Status::loaded);
  host_->set_query_handler([](const nlohmann::json&) { return nlohmann::json{{"ok", true}}; });
  // RFC 7235: the scheme is case-insensitive; curl users and proxies write "bearer".
  for (const char* scheme : {"Bearer", "bearer", "BEARER"})
    EXPECT_EQ(http_exchange(root_, port_, "GET", "/api/status", "Authorization", std::string(scheme) + " tk", 0)
                  .substr(0, 3), "200") << scheme;
  EXPECT_EQ(http_exchange(root_, port_, "GET", "/api/status", "Authorization", "bearer wrong", 0).substr(0, 3), "401");
  EXPECT_EQ(http_exchange(root_, port_, "GET", "/api/status", "Authorization", "Basic tk", 0).substr(0, 3), "401");
  EXPECT_EQ(http_exchange(root_, port_, "GET", "/api/status", "Authorization", "bearertk", 0).substr(0, 3), "401");
}

TEST_F(WebSocketTest, OversizedHeadersAndBodiesAreAnsweredNotCut) {
  ASSERT_EQ(start({{"token", "tk"}}).status, PluginLoadResult::Status::loaded);
  // A 100 KB header used to get the connection closed with no answer.
  const std::string big_header = http_exchange(root_, port_, "GET", "/healthz", "X-Big", std::string(100 * 1024, 'a'), 0);
  EXPECT_EQ(big_header.substr(0, 3), "431") << big_header;
  const std::string big_body = http_exchange(root_, port_, "POST", "/healthz?token=tk", "", "", 1024 * 1024);
  EXPECT_EQ(big_body.substr(0, 3), "413") << big_body;
  // The server is still there for the next client.
  EXPECT_EQ(http_exchange(root_, port_, "GET", "/healthz", "", "", 0), "200 {\"ok\":true}\n");
}

}  // namespace
