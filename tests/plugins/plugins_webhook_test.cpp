// The webhook plugin against real receivers: a real Alertmanager (Debian's
// prometheus-alertmanager) fed by a real guardian run whose dev server crashes and comes
// back, and a local HTTP receiver for the JSON/Slack formats, retries, timeouts and the
// bounded queue.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_runner.hpp"
#include "support/captured_log.hpp"
#include "support/guardian_run.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::plugins::PluginRunner;
using guardian::plugins::PluginLoadResult;
using guardian::testing::CapturedLog;
using guardian::testing::GuardianRun;
using guardian::testing::Subprocess;
using guardian::testing::wait_until;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string hostname() {
  char buffer[256] = {};
  ::gethostname(buffer, sizeof buffer - 1);
  return buffer;
}

// ---- a real Alertmanager -------------------------------------------------------------------

class Alertmanager {
 public:
  explicit Alertmanager(const fs::path& dir) : port_(guardian::testing::free_port()) {
    const fs::path config = dir / "alertmanager.yml";
    // A receiver that sends nothing anywhere: the test reads the API.
    std::ofstream(config) << "route:\n  receiver: nowhere\n  group_wait: 0s\nreceivers:\n  - name: nowhere\n";
    process_ = std::make_unique<Subprocess>(
        std::vector<std::string>{"prometheus-alertmanager", "--config.file=" + config.string(),
                                 "--storage.path=" + (dir / "am-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--cluster.listen-address="},  // no gossip: a lone instance on loopback
        dir);
    dir_ = dir;
  }
  ~Alertmanager() {
    process_->kill(SIGTERM);
    process_->wait(30s);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool wait_ready() {
    return wait_until(
        [&] { return guardian::testing::fetch_all(url(), {{"/-/ready", "", ""}}, dir_).at(0).status == 200; }, 60s);
  }
  // GET /api/v2/alerts (active ones by default).
  json alerts(const std::string& query = "") const {
    auto r = guardian::testing::fetch_all(url(), {{"/api/v2/alerts" + query, "", ""}}, dir_).at(0);
    return r.status == 200 ? r.json() : json::array();
  }
  std::string log() const { return process_->stderr_text(); }

 private:
  int port_;
  fs::path dir_;
  std::unique_ptr<Subprocess> process_;
};

json find_alert(const json& alerts, const std::string& name) {
  for (const auto& a : alerts)
    if (a["labels"].value("alertname", "") == name) return a;
  return nullptr;
}

TEST(WebhookAlertmanagerTest, AServerCrashShowsUpInAlertmanagerWithItsLabelsAndItsRecoveryEndsIt) {
  const fs::path dir = guardian::testing::make_temp_dir("guardian-am-");
  Alertmanager am(dir);
  ASSERT_TRUE(am.wait_ready()) << am.log();
  GuardianRun run(GuardianRun::Options{
      "", true,
      "[plugins.webhook]\nurl = \"" + am.url() + "\"\nformat = \"alertmanager\"\ntimeout_ms = 3000\n"
      "generator_url = \"http://127.0.0.1/dashboard\"\n",
      {}});
  ASSERT_TRUE(run.wait_ready()) << run.output();
  const std::string run_id = run.get("/api/monitoring/status").json()["run"]["id"];
  run.crash_server();

  json down;
  ASSERT_TRUE(wait_until(
      [&] {
        down = find_alert(am.alerts(), "SERVER_DOWN");
        return !down.is_null();
      },
      60s))
      << run.output() << am.log();
  EXPECT_EQ(down["labels"]["severity"], "critical");
  EXPECT_EQ(down["labels"]["subject"], "api");
  EXPECT_EQ(down["labels"]["run"], run_id);
  EXPECT_EQ(down["labels"]["host"], hostname());
  EXPECT_EQ(down["labels"]["source"], "health");
  EXPECT_NE(down["annotations"]["summary"].get<std::string>().find("api"), std::string::npos) << down.dump();
  EXPECT_FALSE(down["annotations"]["description"].get<std::string>().empty());
  EXPECT_EQ(down["generatorURL"], "http://127.0.0.1/dashboard");
  EXPECT_EQ(down["status"]["state"], "active");

  // The server is restarted; SERVER_UP resolves SERVER_DOWN and the plugin sends endsAt:
  // Alertmanager no longer lists it as active.
  ASSERT_TRUE(wait_until([&] { return find_alert(am.alerts(), "SERVER_DOWN").is_null(); }, 60s))
      << am.alerts().dump() << run.output();
  EXPECT_TRUE(find_alert(am.alerts(), "SERVER_UP").is_null()) << "info is below the default min_severity";
  run.stop();
  // The plugin's summary line lands in the run's event log.
  std::string events;
  for (const auto& entry : fs::recursive_directory_iterator(run.dir() / "runs"))
    if (entry.path().filename() == "events.jsonl") events += guardian::testing::read_file(entry.path());
  EXPECT_NE(events.find("webhook: delivered 2, failed 0, dropped 0"), std::string::npos) << events;
  fs::remove_all(dir);
}

// ---- a local receiver ---------------------------------------------------------------------

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = guardian::testing::make_temp_dir("guardian-webhook-"); }
  void TearDown() override {
    host_.reset();
    receiver_.reset();
    if (!HasFailure()) fs::remove_all(root_);
  }

  void start_receiver(std::vector<std::string> flags = {}) {
    std::vector<std::string> argv{guardian::testing::kPython, std::string(TEST_SOURCE_DIR) + "/fixtures/webhook_receiver.py",
                                  (root_ / "receiver-port").string(), (root_ / "received.jsonl").string()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    receiver_ = std::make_unique<Subprocess>(argv, root_);
    ASSERT_TRUE(wait_until([&] { return fs::exists(root_ / "receiver-port"); }, 30s)) << receiver_->stderr_text();
    url_ = "http://127.0.0.1:" + guardian::testing::read_file(root_ / "receiver-port") + "/hook";
  }

  PluginLoadResult load(json config) {
    host_ = std::make_unique<PluginRunner>(guardian::testing::isolated_options({TEST_BUNDLED_PLUGIN_DIR}, log_));
    for (auto& r : host_->load({{"webhook", config}}))
      if (r.name == "webhook") return r;
    return {};
  }

  std::vector<json> received() const {
    std::vector<json> out;
    if (!fs::exists(root_ / "received.jsonl")) return out;
    for (const auto& line : guardian::testing::read_lines(root_ / "received.jsonl"))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

  static json alert_event(int id, const std::string& type, const std::string& severity) {
    return {{"kind", "alert"},
            {"ts", "2026-01-01T00:00:00.000Z"},
            {"run_id", "run-1"},
            {"alert",
             {{"id", id},
              {"ts", "2026-01-01T00:00:00.000Z"},
              {"type", type},
              {"severity", severity},
              {"subject", "api"},
              {"title", "server 'api' is down"},
              {"message", "it exited with 3"},
              {"source", "health"},
              {"dedup_key", type + ":api"}}}};
  }

  fs::path root_;
  CapturedLog log_;
  std::unique_ptr<Subprocess> receiver_;
  std::unique_ptr<PluginRunner> host_;
  std::string url_;
};

TEST_F(WebhookTest, GenericJsonCarriesTheAlertAndItsResolutionWithTheConfiguredHeaders) {
  start_receiver();
  ASSERT_EQ(load({{"url", url_}, {"format", "json"}, {"headers", {"Authorization: Bearer abc"}}, {"host_label", "box-1"}})
                .status,
            PluginLoadResult::Status::loaded)
      << log_.joined();
  host_->publish(alert_event(7, "SERVER_DOWN", "critical"));
  host_->publish(alert_event(8, "TEST_FAILED", "info"));  // below min_severity (warning): not sent
  json resolved = alert_event(7, "SERVER_DOWN", "critical");
  resolved["kind"] = "alert_resolved";
  resolved["alert"]["resolved_at"] = "2026-01-01T00:00:05.000Z";
  host_->publish(resolved);
  ASSERT_TRUE(wait_until([&] { return received().size() >= 2; }, 30s)) << log_.joined();
  host_->shutdown(5s);
  const auto got = received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["path"], "/hook");
  EXPECT_EQ(got[0]["headers"]["Authorization"], "Bearer abc");
  EXPECT_EQ(got[0]["headers"]["Content-Type"], "application/json");
  const json first = json::parse(got[0]["body"].get<std::string>());
  EXPECT_EQ(first["kind"], "alert");
  EXPECT_EQ(first["host"], "box-1");
  EXPECT_EQ(first["run_id"], "run-1");
  EXPECT_EQ(first["alert"]["type"], "SERVER_DOWN");
  const json second = json::parse(got[1]["body"].get<std::string>());
  EXPECT_EQ(second["kind"], "alert_resolved");
  EXPECT_EQ(second["resolved_at"], "2026-01-01T00:00:05.000Z");
  EXPECT_EQ(log_.count("delivered 2, failed 0, dropped 0, retries 0"), 1u) << log_.joined();
}

TEST_F(WebhookTest, SlackFormatIsATextMessage) {
  start_receiver();
  ASSERT_EQ(load({{"url", url_}, {"format", "slack"}, {"host_label", "box-1"}}).status, PluginLoadResult::Status::loaded);
  host_->publish(alert_event(1, "SERVER_DOWN", "critical"));
  ASSERT_TRUE(wait_until([&] { return received().size() == 1; }, 30s)) << log_.joined();
  const json body = json::parse(received()[0]["body"].get<std::string>());
  EXPECT_EQ(body.size(), 1u) << "only text: Slack, Mattermost and Rocket.Chat all take it";
  EXPECT_EQ(body["text"], "[CRITICAL] SERVER_DOWN server 'api' is down (box-1, run run-1)\nit exited with 3");
}

TEST_F(WebhookTest, FailedDeliveriesAreRetriedWithBackoffAndCounted) {
  start_receiver({"--fail-first", "2"});
  ASSERT_EQ(load({{"url", url_}, {"format", "json"}, {"backoff_initial_ms", 50}, {"retries", 3}}).status,
            PluginLoadResult::Status::loaded);
  host_->publish(alert_event(1, "SERVER_DOWN", "critical"));
  ASSERT_TRUE(wait_until([&] { return received().size() == 3; }, 30s)) << log_.joined();
  host_->shutdown(5s);
  const auto got = received();
  EXPECT_EQ(got[0]["answer"], 503);
  EXPECT_EQ(got[1]["answer"], 503);
  EXPECT_EQ(got[2]["answer"], 200);
  EXPECT_EQ(got[0]["body"], got[2]["body"]) << "the same delivery, retried";
  EXPECT_EQ(log_.count("failed (HTTP 503); retry 1/3 in 50 ms"), 1u) << log_.joined();
  EXPECT_EQ(log_.count("failed (HTTP 503); retry 2/3 in 100 ms"), 1u) << log_.joined();
  EXPECT_EQ(log_.count("delivered 1, failed 0, dropped 0, retries 2"), 1u) << log_.joined();
}

TEST_F(WebhookTest, AnUnreachableReceiverIsGivenUpOnAndLogged) {
  const int port = guardian::testing::free_port();  // nobody listens
  ASSERT_EQ(load({{"url", "http://127.0.0.1:" + std::to_string(port) + "/x"}, {"format", "json"},
                  {"backoff_initial_ms", 10}, {"retries", 2}})
                .status,
            PluginLoadResult::Status::loaded);
  host_->publish(alert_event(1, "SERVER_DOWN", "critical"));
  ASSERT_TRUE(wait_until([&] { return log_.count("giving up on SERVER_DOWN api (alert 1, raised) after 3 attempt(s)") == 1; },
                         30s))
      << log_.joined();
  EXPECT_EQ(log_.count("Connection refused"), 3u) << log_.joined();
  host_->shutdown(5s);
  EXPECT_EQ(log_.count("delivered 0, failed 1, dropped 0, retries 2"), 1u) << log_.joined();
}

TEST_F(WebhookTest, AHangingReceiverTimesOutAndAFullQueueDropsTheOldest) {
  start_receiver({"--hang"});
  ASSERT_EQ(load({{"url", url_}, {"format", "json"}, {"timeout_ms", 300}, {"retries", 0}, {"max_queue", 2}}).status,
            PluginLoadResult::Status::loaded);
  host_->publish(alert_event(1, "SERVER_DOWN", "critical"));
  ASSERT_TRUE(wait_until([&] { return received().size() == 1; }, 30s)) << log_.joined();
  for (int id = 2; id <= 5; ++id) host_->publish(alert_event(id, "SERVER_DOWN", "critical"));
  // The first is in flight (hanging); 2..5 queue behind it with room for 2: 2 and 3 are dropped.
  ASSERT_TRUE(wait_until([&] { return log_.count("giving up on") >= 1; }, 30s)) << log_.joined();
  EXPECT_NE(log_.lines().size(), 0u);
  EXPECT_EQ(log_.count("no answer from 127.0.0.1:"), log_.count("giving up on")) << log_.joined();
  EXPECT_EQ(log_.count("within 300 ms"), log_.count("giving up on"));
  ASSERT_TRUE(wait_until([&] { return log_.count("queue full (2): dropped the oldest delivery") == 2; }, 30s))
      << log_.joined();
  EXPECT_EQ(log_.count("dropped the oldest delivery, SERVER_DOWN api (alert 2, raised)"), 1u) << log_.joined();
  EXPECT_EQ(log_.count("dropped the oldest delivery, SERVER_DOWN api (alert 3, raised)"), 1u) << log_.joined();
  host_->shutdown(5s);
  EXPECT_EQ(log_.count("dropped 2"), 1u) << log_.joined();
}

TEST_F(WebhookTest, ActiveCriticalAlertsAreResentToAlertmanagerUntilResolved) {
  start_receiver();
  ASSERT_EQ(load({{"url", url_}, {"format", "alertmanager"}, {"resend_interval_ms", 200}}).status,
            PluginLoadResult::Status::loaded);
  host_->publish(alert_event(4, "SERVER_DOWN", "critical"));
  ASSERT_TRUE(wait_until([&] { return received().size() >= 3; }, 30s)) << log_.joined();
  // SERVER_UP resolving it: one last post with endsAt, then no more re-sends.
  json up = alert_event(5, "SERVER_UP", "info");
  up["alert"]["resolves"] = 4;
  up["alert"]["ts"] = "2026-01-01T00:00:09.000Z";
  host_->publish(up);
  ASSERT_TRUE(wait_until([&] {
    const auto got = received();
    return json::parse(got.back()["body"].get<std::string>())[0].contains("endsAt");
  }, 30s)) << log_.joined();
  const std::size_t after_resolution = received().size();
  std::this_thread::sleep_for(700ms);  // would hold three re-sends
  const auto got = received();
  EXPECT_EQ(got.size(), after_resolution);
  EXPECT_EQ(got[0]["path"], "/hook/api/v2/alerts");
  const json first = json::parse(got[0]["body"].get<std::string>())[0];
  for (std::size_t i = 1; i + 1 < got.size(); ++i)
    EXPECT_EQ(json::parse(got[i]["body"].get<std::string>())[0], first) << "a re-send is the same alert";
  const json last = json::parse(got.back()["body"].get<std::string>())[0];
  EXPECT_EQ(last["labels"], first["labels"]);
  EXPECT_EQ(last["endsAt"], "2026-01-01T00:00:09.000Z");
  for (const auto& r : got)
    EXPECT_NE(json::parse(r["body"].get<std::string>())[0]["labels"]["alertname"], "SERVER_UP")
        << "info is below min_severity: not sent";
}

TEST_F(WebhookTest, HttpsReceiversAreVerifiedAgainstTheTrustedCertificates) {
  // A self-signed certificate for 127.0.0.1: trusted through ca_file, refused without it.
  Subprocess openssl({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", (root_ / "key.pem").string(), "-out",
                      (root_ / "cert.pem").string()},
                     root_);
  ASSERT_EQ(openssl.wait(60s), std::optional<int>(0)) << openssl.stderr_text();
  start_receiver({"--tls", (root_ / "cert.pem").string(), (root_ / "key.pem").string()});
  const std::string https = "https" + url_.substr(4);
  ASSERT_EQ(load({{"url", https}, {"format", "json"}, {"ca_file", (root_ / "cert.pem").string()}}).status,
            PluginLoadResult::Status::loaded)
      << log_.joined();
  host_->publish(alert_event(1, "SERVER_DOWN", "critical"));
  ASSERT_TRUE(wait_until([&] { return received().size() == 1; }, 30s)) << log_.joined();
  EXPECT_EQ(json::parse(received()[0]["body"].get<std::string>())["alert"]["id"], 1);
  host_->shutdown(5s);
  EXPECT_EQ(log_.count("delivered 1, failed 0"), 1u) << log_.joined();

  ASSERT_EQ(load({{"url", https}, {"format", "json"}, {"retries", 0}}).status, PluginLoadResult::Status::loaded);
  host_->publish(alert_event(2, "SERVER_DOWN", "critical"));
  ASSERT_TRUE(wait_until([&] { return log_.count("giving up on SERVER_DOWN api (alert 2, raised)") == 1; }, 30s))
      << log_.joined();
  EXPECT_EQ(log_.count("TLS handshake with 127.0.0.1:"), 1u) << log_.joined();
  EXPECT_EQ(log_.count("certificate verify failed"), 1u) << log_.joined();
  EXPECT_EQ(received().size(), 1u) << "nothing reached the receiver without a trusted certificate";
}

TEST_F(WebhookTest, BadConfigurationIsRefusedWithWhatToDo) {
  auto r = load({{"url", "ftp://hooks.example/x"}, {"format", "json"}});
  EXPECT_EQ(r.status, PluginLoadResult::Status::failed);
  EXPECT_NE(r.message.find("only http:// and https:// are supported (ftp is not)"), std::string::npos) << r.message;
  host_.reset();
  r = load({{"url", "http://127.0.0.1:1"}, {"format", "xml"}});
  EXPECT_NE(r.message.find("use alertmanager, json or slack"), std::string::npos) << r.message;
  host_.reset();
  r = load({{"format", "json"}});
  EXPECT_NE(r.status, PluginLoadResult::Status::loaded) << "url is required";
}

}  // namespace
