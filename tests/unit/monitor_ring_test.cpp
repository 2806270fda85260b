// SnapshotRing: keeps the last N, answers time windows (inclusive ends, newest-first
// limit), and its JSON form for the status API.
#include <gtest/gtest.h>

#include "guardian/monitor/snapshot_ring.hpp"

namespace {

using namespace guardian::monitor;
using namespace std::chrono_literals;

const WallTime kBase = WallTime(std::chrono::seconds(1'800'000'000));

Snapshot at(int second) {
  Snapshot s;
  s.time = kBase + std::chrono::seconds(second);
  s.processes = static_cast<std::uint64_t>(second);
  return s;
}

std::vector<std::uint64_t> seconds_of(const std::vector<Snapshot>& snapshots) {
  std::vector<std::uint64_t> out;
  for (const auto& s : snapshots) out.push_back(s.processes);
  return out;
}

TEST(SnapshotRingTest, KeepsTheLastThousandByDefault) {
  SnapshotRing ring;
  EXPECT_EQ(ring.capacity(), 1000u);
  for (int i = 0; i < 1500; ++i) ring.push(at(i));
  EXPECT_EQ(ring.size(), 1000u);
  auto all = ring.query({});
  ASSERT_EQ(all.size(), 1000u);
  EXPECT_EQ(all.front().processes, 500u);
  EXPECT_EQ(all.back().processes, 1499u);
  EXPECT_EQ(ring.latest()->processes, 1499u);
}

TEST(SnapshotRingTest, WindowsAreInclusive) {
  SnapshotRing ring(100);
  for (int i = 0; i < 10; ++i) ring.push(at(i * 10));  // 0, 10, …, 90
  EXPECT_EQ(seconds_of(ring.query({kBase + 20s, kBase + 50s})), (std::vector<std::uint64_t>{20, 30, 40, 50}));
  EXPECT_EQ(seconds_of(ring.query({kBase + 21s, kBase + 49s})), (std::vector<std::uint64_t>{30, 40}));
  EXPECT_EQ(seconds_of(ring.query({kBase + 85s, std::nullopt})), (std::vector<std::uint64_t>{90}));
  EXPECT_EQ(seconds_of(ring.query({std::nullopt, kBase + 10s})), (std::vector<std::uint64_t>{0, 10}));
  EXPECT_TRUE(ring.query({kBase + 91s, std::nullopt}).empty());
  EXPECT_TRUE(ring.query({kBase + 50s, kBase + 40s}).empty());
}

TEST(SnapshotRingTest, LimitKeepsTheNewest) {
  SnapshotRing ring(100);
  for (int i = 0; i < 10; ++i) ring.push(at(i));
  EXPECT_EQ(seconds_of(ring.query({std::nullopt, std::nullopt, 3})), (std::vector<std::uint64_t>{7, 8, 9}));
  EXPECT_EQ(seconds_of(ring.query({std::nullopt, kBase + 5s, 2})), (std::vector<std::uint64_t>{4, 5}));
}

TEST(SnapshotRingTest, EmptyRing) {
  SnapshotRing ring(5);
  EXPECT_FALSE(ring.latest());
  EXPECT_TRUE(ring.query({}).empty());
  auto json = ring.query_json({});
  EXPECT_EQ(json["count"], 0);
  EXPECT_EQ(json["capacity"], 5);
  EXPECT_TRUE(json["snapshots"].empty());
}

TEST(SnapshotRingTest, JsonCarriesTheSnapshotFields) {
  SnapshotRing ring(5);
  Snapshot s = at(1);
  s.level = Level::intensive;
  s.cpu_percent_of_core = 123.456;
  s.cpu_percent_of_ceiling = 61.728;
  s.cpu_ceiling_cores = 2;
  s.memory_bytes = 1 << 20;
  s.memory_ceiling_bytes = 4 << 20;
  s.memory_percent_of_ceiling = 25;
  s.threads = 7;
  s.disks.push_back({"/work", 42.5, 1000, 575});
  s.psi_cpu = Pressure{1.5, std::nullopt};
  s.psi_scope = "host";
  ring.push(s);
  auto json = ring.query_json({});
  ASSERT_EQ(json["count"], 1);
  const auto& snap = json["snapshots"][0];
  EXPECT_EQ(snap["level"], "INTENSIVE");
  EXPECT_DOUBLE_EQ(snap["tree"]["cpu_percent_of_core"].get<double>(), 123.46);
  EXPECT_DOUBLE_EQ(snap["tree"]["cpu_percent_of_ceiling"].get<double>(), 61.73);
  EXPECT_EQ(snap["tree"]["memory_bytes"], 1 << 20);
  EXPECT_EQ(snap["tree"]["threads"], 7);
  EXPECT_TRUE(snap["tree"]["open_fds"].is_null());
  EXPECT_EQ(snap["disks"][0]["path"], "/work");
  EXPECT_EQ(snap["psi"]["scope"], "host");
  EXPECT_DOUBLE_EQ(snap["psi"]["cpu"]["some_avg10"].get<double>(), 1.5);
  EXPECT_TRUE(snap["psi"]["cpu"]["full_avg10"].is_null());
  EXPECT_TRUE(snap["psi"]["memory"].is_null());
  EXPECT_TRUE(snap["time"].get<std::string>().starts_with("20"));
}

}  // namespace
