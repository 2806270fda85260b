// Probe results and their classification (ok / slow warning / slow critical / failure),
// health-check targets as users write them, healthy HTTP statuses, and the output ring.
#include <gtest/gtest.h>

#include "guardian/health/output_ring.hpp"
#include "guardian/health/probe_result.hpp"
#include "guardian/health/probe_target.hpp"

namespace guardian::health {
namespace {

using namespace std::chrono_literals;

ProbeResult answered(std::chrono::milliseconds latency) {
  ProbeResult r;
  r.ok = true;
  r.latency = latency;
  r.http_status = 200;
  return r;
}

TEST(ProbeClassification, ByOutcomeAndResponseTime) {
  SlowThresholds defaults;  // 500 ms warning, 800 ms critical (the probe timeout is 1 s)
  EXPECT_EQ(classify(answered(3ms), defaults), ProbeClass::ok);
  EXPECT_EQ(classify(answered(499ms), defaults), ProbeClass::ok);
  EXPECT_EQ(classify(answered(500ms), defaults), ProbeClass::slow_warning);
  EXPECT_EQ(classify(answered(799ms), defaults), ProbeClass::slow_warning);
  EXPECT_EQ(classify(answered(800ms), defaults), ProbeClass::slow_critical);
  ProbeResult failed;
  failed.latency = 1ms;
  failed.detail = "connection refused";
  EXPECT_EQ(classify(failed, defaults), ProbeClass::failure);
  failed.latency = 10s;  // a slow failure is a failure
  EXPECT_EQ(classify(failed, defaults), ProbeClass::failure);
}

TEST(ProbeClassification, ThresholdsAreConfigurable) {
  SlowThresholds tight{100ms, 300ms};
  EXPECT_EQ(classify(answered(150ms), tight), ProbeClass::slow_warning);
  EXPECT_EQ(classify(answered(300ms), tight), ProbeClass::slow_critical);
}

TEST(ProbeTarget, ParsesHttpWithAndWithoutPortAndPath) {
  auto parsed = parse_probe_target("http://127.0.0.1:8000/health");
  ASSERT_TRUE(std::holds_alternative<ProbeTarget>(parsed));
  auto http = std::get<HttpTarget>(std::get<ProbeTarget>(parsed));
  EXPECT_EQ(http.host, "127.0.0.1");
  EXPECT_EQ(http.port, 8000);
  EXPECT_EQ(http.path, "/health");

  http = std::get<HttpTarget>(std::get<ProbeTarget>(parse_probe_target("http://localhost")));
  EXPECT_EQ(http.port, 80);
  EXPECT_EQ(http.path, "/");

  http = std::get<HttpTarget>(std::get<ProbeTarget>(parse_probe_target("http://[::1]:9000/h?x=1")));
  EXPECT_EQ(http.host, "::1");
  EXPECT_EQ(http.port, 9000);
  EXPECT_EQ(http.path, "/h?x=1");
  EXPECT_EQ(describe(ProbeTarget{http}), "http://[::1]:9000/h?x=1");
}

TEST(ProbeTarget, ParsesTcpAndExec) {
  auto tcp = std::get<TcpTarget>(std::get<ProbeTarget>(parse_probe_target("tcp://db:5432")));
  EXPECT_EQ(tcp.host, "db");
  EXPECT_EQ(tcp.port, 5432);
  auto exec = std::get<ExecTarget>(std::get<ProbeTarget>(parse_probe_target("exec:pg_isready -q")));
  EXPECT_EQ(exec.command, "pg_isready -q");
}

TEST(ProbeTarget, RejectsWhatItCannotProbeAndSaysWhatWorks) {
  for (const char* bad : {"127.0.0.1:8000", "tcp://db", "http://:80/", "http://h:99999/", "tcp://h:1/path",
                          "exec:", "https://example.com/health", "ftp://x"}) {
    auto parsed = parse_probe_target(bad);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << bad;
    const auto& message = std::get<std::string>(parsed);
    EXPECT_FALSE(message.empty()) << bad;
  }
  auto https = std::get<std::string>(parse_probe_target("https://example.com/health"));
  EXPECT_NE(https.find("exec:curl"), std::string::npos) << https;
  auto bare = std::get<std::string>(parse_probe_target("127.0.0.1:8000"));
  EXPECT_NE(bare.find("http://"), std::string::npos) << bare;
}

TEST(StatusSet, DefaultIs2xxAnd3xx) {
  StatusSet set;
  EXPECT_TRUE(set.contains(200));
  EXPECT_TRUE(set.contains(302));
  EXPECT_TRUE(set.contains(399));
  EXPECT_FALSE(set.contains(404));
  EXPECT_FALSE(set.contains(503));
  EXPECT_FALSE(set.contains(199));
}

TEST(StatusSet, ParsesListsAndRanges) {
  auto set = StatusSet::parse("200-299, 304");
  ASSERT_TRUE(set.has_value());
  EXPECT_TRUE(set->contains(204));
  EXPECT_TRUE(set->contains(304));
  EXPECT_FALSE(set->contains(301));
  EXPECT_FALSE(StatusSet::parse("").has_value());
  EXPECT_FALSE(StatusSet::parse("ok").has_value());
  EXPECT_FALSE(StatusSet::parse("300-200").has_value());
  EXPECT_FALSE(StatusSet::parse("42").has_value());
}

TEST(OutputRing, KeepsTheLastLines) {
  OutputRing ring(3);
  for (int i = 1; i <= 5; ++i) ring.add("line " + std::to_string(i));
  EXPECT_EQ(ring.last(10), (std::vector<std::string>{"line 3", "line 4", "line 5"}));
  EXPECT_EQ(ring.last(1), (std::vector<std::string>{"line 5"}));
  EXPECT_EQ(ring.total_lines(), 5u);
}

TEST(OutputRing, CutsLongLinesAndCarriageReturns) {
  OutputRing ring(10, 8);
  ring.add("0123456789abcdef");
  ring.add("windows\r");
  auto lines = ring.last(2);
  EXPECT_EQ(lines[0].substr(0, 8), "01234567");
  EXPECT_LT(lines[0].size(), 16u);
  EXPECT_EQ(lines[1], "windows");
}

TEST(LineSplitter, JoinsChunksIntoLines) {
  LineSplitter splitter;
  EXPECT_TRUE(splitter.feed("INFO: Start").empty());
  auto lines = splitter.feed("ed server\nsecond\nthi");
  EXPECT_EQ(lines, (std::vector<std::string>{"INFO: Started server", "second"}));
  EXPECT_EQ(splitter.flush(), "thi");
  EXPECT_EQ(splitter.flush(), "");
}

TEST(LineSplitter, CutsEndlessLines) {
  LineSplitter splitter(4);
  auto lines = splitter.feed("abcdefghij");
  EXPECT_EQ(lines, (std::vector<std::string>{"abcd", "efgh"}));
  EXPECT_EQ(splitter.flush(), "ij");
}

}  // namespace
}  // namespace guardian::health
