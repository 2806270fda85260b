// AlertBus rules on a fake clock: dedup key, rate-limit window, suppressed counts,
// history ring, active set, SERVER_UP resolution, journal lines and event envelope.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "guardian/alerts/alert_bus.hpp"

namespace {

using namespace guardian::alerts;
using namespace std::chrono_literals;

class FakeClock {
 public:
  TimePoint now() const { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }
  WallClock function() {
    return [this] { return now_; };
  }

 private:
  TimePoint now_ = TimePoint(std::chrono::milliseconds(1'700'000'000'000));
};

AlertSpec spec(AlertType type, const std::string& subject, const std::string& title = "t") {
  AlertSpec s;
  s.type = type;
  s.subject = subject;
  s.title = title;
  s.message = "m";
  s.source = "test";
  return s;
}

class AlertBusTest : public ::testing::Test {
 protected:
  AlertBusOptions options() {
    AlertBusOptions o;
    o.clock = clock_.function();
    o.run_id = "run-42";
    return o;
  }
  FakeClock clock_;
};

TEST_F(AlertBusTest, SameKeyWithinTheWindowIsSuppressedAndCounted) {
  AlertBus bus(options());
  const auto first = bus.raise(spec(AlertType::server_down, "api"));
  EXPECT_EQ(first.outcome, RaiseOutcome::emitted);
  EXPECT_EQ(first.dedup_key, "SERVER_DOWN:api");
  EXPECT_EQ(first.suppressed_count, 0u);

  clock_.advance(10s);
  auto second = bus.raise(spec(AlertType::server_down, "api"));
  EXPECT_EQ(second.outcome, RaiseOutcome::suppressed);
  EXPECT_EQ(second.suppressed_count, 1u);
  clock_.advance(49'999ms);
  EXPECT_EQ(bus.raise(spec(AlertType::server_down, "api")).suppressed_count, 2u);

  // Another subject or another type is another key.
  EXPECT_EQ(bus.raise(spec(AlertType::server_down, "worker")).outcome, RaiseOutcome::emitted);
  EXPECT_EQ(bus.raise(spec(AlertType::server_slow, "api")).outcome, RaiseOutcome::emitted);

  clock_.advance(1ms);  // exactly 60 s after the first emission: the window is over
  const auto third = bus.raise(spec(AlertType::server_down, "api"));
  EXPECT_EQ(third.outcome, RaiseOutcome::emitted);
  EXPECT_EQ(third.suppressed_count, 2u) << "the emission carries what the window swallowed";
  EXPECT_EQ(bus.history().back()["suppressed_count"], 2);

  clock_.advance(60s);
  EXPECT_EQ(bus.raise(spec(AlertType::server_down, "api")).suppressed_count, 0u) << "the count starts over";
}

TEST_F(AlertBusTest, WindowIsConfigurable) {
  auto o = options();
  o.rate_limit_window = 5s;
  AlertBus bus(o);
  bus.raise(spec(AlertType::test_failed, "t1"));
  clock_.advance(4s);
  EXPECT_EQ(bus.raise(spec(AlertType::test_failed, "t1")).outcome, RaiseOutcome::suppressed);
  clock_.advance(1s);
  EXPECT_EQ(bus.raise(spec(AlertType::test_failed, "t1")).outcome, RaiseOutcome::emitted);
}

TEST_F(AlertBusTest, ServerUpResolvesServerDownAndIsNeverSwallowed) {
  AlertBus bus(options());
  const auto down = bus.raise(spec(AlertType::server_down, "api"));
  ASSERT_EQ(bus.active().size(), 1u);
  EXPECT_EQ(bus.active()[0]["id"], down.id);

  clock_.advance(1s);
  const auto up = bus.raise(spec(AlertType::server_up, "api"));
  EXPECT_EQ(up.outcome, RaiseOutcome::emitted);
  ASSERT_TRUE(up.resolved_id.has_value());
  EXPECT_EQ(*up.resolved_id, down.id);
  EXPECT_TRUE(bus.active().empty());
  const auto history = bus.history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["resolved_by"], up.id);
  EXPECT_EQ(history[0]["resolved_at"], "2023-11-14T22:13:21.000Z");
  EXPECT_EQ(history[1]["resolves"], down.id);
  EXPECT_EQ(history[1]["severity"], "info");

  // A new outage right after recovery is a new incident: emitted despite the window.
  clock_.advance(1s);
  EXPECT_EQ(bus.raise(spec(AlertType::server_down, "api")).outcome, RaiseOutcome::emitted);
  // The flapping server's next SERVER_UP resolves again, even inside its own window.
  clock_.advance(1s);
  EXPECT_EQ(bus.raise(spec(AlertType::server_up, "api")).outcome, RaiseOutcome::emitted);
  // A SERVER_UP with nothing to resolve is rate-limited like any other alert.
  clock_.advance(1s);
  EXPECT_EQ(bus.raise(spec(AlertType::server_up, "api")).outcome, RaiseOutcome::suppressed);
  // SERVER_UP for another subject resolves nothing.
  bus.raise(spec(AlertType::server_down, "db"));
  EXPECT_FALSE(bus.raise(spec(AlertType::server_up, "cache")).resolved_id.has_value());
  EXPECT_EQ(bus.active().size(), 1u);
}

// A slow server's warning opens the window; its critical answers 10 s later must still
// reach the plugins (once), and a step back to warning stays quiet inside the window.
TEST_F(AlertBusTest, EscalationUnderTheSameKeyIsAlwaysEmitted) {
  AlertBus bus(options());
  auto slow = [](Severity severity) {
    auto s = spec(AlertType::server_slow, "api");
    s.severity = severity;
    return s;
  };
  EXPECT_EQ(bus.raise(slow(Severity::warning)).outcome, RaiseOutcome::emitted);
  clock_.advance(1s);
  EXPECT_EQ(bus.raise(slow(Severity::warning)).outcome, RaiseOutcome::suppressed);
  clock_.advance(1s);
  const auto critical = bus.raise(slow(Severity::critical));
  EXPECT_EQ(critical.outcome, RaiseOutcome::emitted);
  EXPECT_EQ(critical.suppressed_count, 1u);  // the swallowed warning is counted in
  for (int i = 0; i < 12; ++i) {
    clock_.advance(1s);
    EXPECT_EQ(bus.raise(slow(Severity::critical)).outcome, RaiseOutcome::suppressed);
  }
  EXPECT_EQ(bus.raise(slow(Severity::warning)).outcome, RaiseOutcome::suppressed);
  const auto history = bus.history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1]["severity"], "critical");
  ASSERT_EQ(bus.active().size(), 1u);
  EXPECT_EQ(bus.active()[0]["id"], critical.id);
}

// While a server flaps, SERVER_FLAPPING stands for the incident; the SERVER_UP that ends it
// resolves it (and is emitted although another SERVER_UP went out a moment ago).
TEST_F(AlertBusTest, ServerUpResolvesServerFlapping) {
  AlertBus bus(options());
  bus.raise(spec(AlertType::server_down, "api"));
  clock_.advance(1s);
  bus.raise(spec(AlertType::server_up, "api"));
  clock_.advance(1s);
  const auto flapping = bus.raise(spec(AlertType::server_flapping, "api"));
  EXPECT_EQ(flapping.outcome, RaiseOutcome::emitted);
  ASSERT_EQ(bus.active().size(), 1u);
  EXPECT_EQ(bus.active()[0]["type"], "SERVER_FLAPPING");
  clock_.advance(1s);
  const auto up = bus.raise(spec(AlertType::server_up, "api"));
  EXPECT_EQ(up.outcome, RaiseOutcome::emitted);
  EXPECT_EQ(up.resolved_id, flapping.id);
  EXPECT_TRUE(bus.active().empty());
}

TEST_F(AlertBusTest, ActiveHoldsUnresolvedCriticalOnesOnly) {
  AlertBus bus(options());
  bus.raise(spec(AlertType::resource_critical, "memory"));
  bus.raise(spec(AlertType::resource_warning, "cpu"));  // warning: never active
  auto explicit_info = spec(AlertType::critical, "generic");
  explicit_info.severity = Severity::info;  // the raiser's severity wins over the type's default
  bus.raise(explicit_info);
  bus.raise(spec(AlertType::test_timeout, "tests/test_x.py::test_y"));
  auto active = bus.active();
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0]["type"], "RESOURCE_CRITICAL");
  EXPECT_EQ(active[1]["type"], "TEST_TIMEOUT");

  EXPECT_TRUE(bus.resolve("RESOURCE_CRITICAL:memory"));
  EXPECT_FALSE(bus.resolve("RESOURCE_CRITICAL:memory"));
  active = bus.active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0]["dedup_key"], "TEST_TIMEOUT:tests/test_x.py::test_y");
}

TEST_F(AlertBusTest, HistoryKeepsTheLast500) {
  AlertBus bus(options());
  for (int i = 0; i < 520; ++i) bus.raise(spec(AlertType::test_failed, "t" + std::to_string(i)));
  const auto history = bus.history();
  ASSERT_EQ(history.size(), 500u);
  EXPECT_EQ(history.front()["subject"], "t20");
  EXPECT_EQ(history.back()["subject"], "t519");
  EXPECT_EQ(bus.history(3).size(), 3u);
  EXPECT_EQ(bus.history(3)[0]["subject"], "t517");
  // Ids keep increasing beyond the ring.
  EXPECT_EQ(history.back()["id"], 520);
}

TEST_F(AlertBusTest, SummaryCountsByTypeAndSeverity) {
  AlertBus bus(options());
  bus.raise(spec(AlertType::server_down, "api"));
  bus.raise(spec(AlertType::server_down, "api"));
  bus.raise(spec(AlertType::server_down, "api"));
  bus.raise(spec(AlertType::test_failed, "a"));
  bus.raise(spec(AlertType::level_changed, "monitor"));
  const auto summary = bus.summary();
  EXPECT_EQ(summary["emitted"], 3);
  EXPECT_EQ(summary["suppressed"], 2);
  EXPECT_EQ(summary["by_type"]["SERVER_DOWN"]["emitted"], 1);
  EXPECT_EQ(summary["by_type"]["SERVER_DOWN"]["suppressed"], 2);
  EXPECT_EQ(summary["by_severity"]["critical"], 1);
  EXPECT_EQ(summary["by_severity"]["warning"], 1);
  EXPECT_EQ(summary["by_severity"]["info"], 1);
  EXPECT_EQ(summary["active"].size(), 1u);
}

TEST_F(AlertBusTest, SubscribersGetTheEnvelopeAfterTheJournalLine) {
  const auto dir = std::filesystem::temp_directory_path() / ("guardian-bus-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto o = options();
  o.run_dir = dir / "run";
  AlertBus bus(o);
  ASSERT_TRUE(bus.journal_problem().empty()) << bus.journal_problem();
  std::vector<nlohmann::json> events;
  std::vector<std::size_t> journal_lines_at_dispatch;
  bus.subscribe([&](const nlohmann::json& event) {
    events.push_back(event);
    std::ifstream in(o.run_dir / "alerts.jsonl");
    std::size_t lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    journal_lines_at_dispatch.push_back(lines);
  });
  auto s = spec(AlertType::memory_ceiling_kill, "pytest", "pytest killed at the memory ceiling");
  s.context = {{"memory_bytes", 536870912}};
  bus.raise(s);
  bus.raise(spec(AlertType::memory_ceiling_kill, "pytest"));  // suppressed: not journaled, not dispatched

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(journal_lines_at_dispatch, std::vector<std::size_t>{1});
  EXPECT_EQ(events[0]["kind"], "alert");
  EXPECT_EQ(events[0]["run_id"], "run-42");
  EXPECT_EQ(events[0]["ts"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(events[0]["alert"]["type"], "MEMORY_CEILING_KILL");
  EXPECT_EQ(events[0]["alert"]["context"]["memory_bytes"], 536870912);
  EXPECT_EQ(events[0]["alert"]["ts_unix_ms"], 1'700'000'000'000);

  std::ifstream in(o.run_dir / "alerts.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line), events[0]["alert"]);
  EXPECT_EQ(std::filesystem::status(o.run_dir / "alerts.jsonl").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(dir);
}

TEST_F(AlertBusTest, UnwritableRunDirIsReportedAndAlertsStillFlow) {
  auto o = options();
  o.run_dir = "/proc/guardian-cannot-write-here";
  AlertBus bus(o);
  EXPECT_NE(bus.journal_problem().find("/proc/guardian-cannot-write-here/alerts.jsonl"), std::string::npos)
      << bus.journal_problem();
  int delivered = 0;
  bus.subscribe([&](const nlohmann::json&) { ++delivered; });
  EXPECT_EQ(bus.raise(spec(AlertType::critical, "x")).outcome, RaiseOutcome::emitted);
  EXPECT_EQ(delivered, 1);
}

TEST_F(AlertBusTest, HugeAlertsAreShortenedInTheJournalOnly) {
  const auto dir = std::filesystem::temp_directory_path() / ("guardian-bus-huge-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto o = options();
  o.run_dir = dir;
  AlertBus bus(o);
  nlohmann::json delivered;
  bus.subscribe([&](const nlohmann::json& event) { delivered = event; });
  auto s = spec(AlertType::test_failed, "big");
  s.message = std::string(100'000, 'm');
  s.context = {{"output", std::string(50'000, 'o')}};
  const auto result = bus.raise(s);
  EXPECT_FALSE(result.journal_error) << result.journal_error.message();
  EXPECT_EQ(delivered["alert"]["message"].get<std::string>().size(), 100'000u) << "plugins get all of it";
  std::ifstream in(dir / "alerts.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_LT(line.size(), 4096u);
  const auto journaled = nlohmann::json::parse(line);
  EXPECT_EQ(journaled["truncated_in_journal"], true);
  EXPECT_EQ(journaled["id"], result.id);
  EXPECT_EQ(journaled["type"], "TEST_FAILED");
  EXPECT_GT(journaled["message"].get<std::string>().size(), 3000u);
  std::filesystem::remove_all(dir);
}

TEST(AlertTypes, NamesRoundTripAndDefaultSeverities) {
  for (auto type : {AlertType::server_down, AlertType::server_up, AlertType::server_slow, AlertType::resource_warning,
                    AlertType::resource_critical, AlertType::memory_ceiling_kill, AlertType::test_timeout,
                    AlertType::test_failed, AlertType::permission_error, AlertType::level_changed,
                    AlertType::server_flapping, AlertType::server_gave_up, AlertType::critical}) {
    EXPECT_EQ(parse_alert_type(to_string(type)), type);
  }
  EXPECT_FALSE(parse_alert_type("NOPE").has_value());
  EXPECT_EQ(default_severity(AlertType::server_down), Severity::critical);
  EXPECT_EQ(default_severity(AlertType::server_slow), Severity::warning);
  EXPECT_EQ(to_string(AlertType::server_gave_up), "SERVER_GAVE_UP");
  EXPECT_EQ(default_severity(AlertType::server_flapping), Severity::critical);
  EXPECT_EQ(default_severity(AlertType::level_changed), Severity::info);
  EXPECT_EQ(format_iso8601_utc(TimePoint(std::chrono::milliseconds(1'700'000'000'123))), "2023-11-14T22:13:20.123Z");
}

}  // namespace
