// Thresholds: a condition rises only after N consecutive readings past a threshold, falls
// only after N consecutive readings below threshold minus hysteresis, and a value hovering
// around a threshold does not flap.
#include <gtest/gtest.h>

#include "guardian/monitor/threshold_tracker.hpp"

namespace {

using namespace guardian::monitor;

std::vector<ConditionChange> feed(ThresholdTracker& tracker, std::initializer_list<double> values) {
  std::vector<ConditionChange> changes;
  for (double v : values)
    if (auto change = tracker.update(v)) changes.push_back(*change);
  return changes;
}

TEST(ThresholdTest, OneSpikeIsNotACondition) {
  ThresholdTracker cpu("cpu", {70, 85}, {2, 5});
  EXPECT_TRUE(feed(cpu, {10, 99, 10, 99, 10}).empty());
  EXPECT_EQ(cpu.state(), ConditionState::ok);
}

TEST(ThresholdTest, RisesAfterPersistence) {
  ThresholdTracker cpu("cpu", {70, 85}, {2, 5});
  auto changes = feed(cpu, {72, 74});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, ConditionState::ok);
  EXPECT_EQ(changes[0].to, ConditionState::warning);
  EXPECT_EQ(changes[0].threshold_percent, 70);
  EXPECT_EQ(changes[0].value_percent, 74);
  changes = feed(cpu, {90, 91});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, ConditionState::critical);
}

TEST(ThresholdTest, CriticalReadingsCountTowardsWarningToo) {
  ThresholdTracker memory("memory", {75, 90}, {3, 5});
  // 80, 95, 80: three readings ≥ warning, never three ≥ critical.
  auto changes = feed(memory, {80, 95, 80});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, ConditionState::warning);
}

TEST(ThresholdTest, StraightToCriticalFromOk) {
  ThresholdTracker disk("disk:/", {80, 95}, {2, 5});
  auto changes = feed(disk, {97, 98});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, ConditionState::ok);
  EXPECT_EQ(changes[0].to, ConditionState::critical);
  EXPECT_EQ(changes[0].metric, "disk:/");
}

TEST(ThresholdTest, HysteresisKeepsAHoveringValueRaised) {
  ThresholdTracker cpu("cpu", {70, 85}, {2, 5});
  feed(cpu, {75, 75});
  ASSERT_EQ(cpu.state(), ConditionState::warning);
  // 68 and 66 are below 70 but not below 65: still a warning.
  EXPECT_TRUE(feed(cpu, {68, 66, 69, 71, 67, 66}).empty());
  EXPECT_EQ(cpu.state(), ConditionState::warning);
  // One reading under 65 is not enough either.
  EXPECT_TRUE(feed(cpu, {60, 66}).empty());
  auto changes = feed(cpu, {60, 50});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, ConditionState::ok);
}

TEST(ThresholdTest, CriticalFallsToWarningOrStraightToOk) {
  ThresholdTracker cpu("cpu", {70, 85}, {2, 5});
  feed(cpu, {90, 90});
  ASSERT_EQ(cpu.state(), ConditionState::critical);
  EXPECT_TRUE(feed(cpu, {82}).empty()) << "82 is within the hysteresis of 85";
  auto changes = feed(cpu, {75, 75});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, ConditionState::warning);

  ThresholdTracker other("cpu", {70, 85}, {2, 5});
  feed(other, {90, 90});
  changes = feed(other, {10, 10});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, ConditionState::critical);
  EXPECT_EQ(changes[0].to, ConditionState::ok);
}

TEST(ThresholdTest, LowThresholdsCanStillClear) {
  ThresholdTracker cpu("cpu", {4, 90}, {2, 5});
  feed(cpu, {30, 30});
  ASSERT_EQ(cpu.state(), ConditionState::warning);
  EXPECT_TRUE(feed(cpu, {2.5, 2.5}).empty()) << "the margin is capped at half the threshold: 2";
  EXPECT_EQ(feed(cpu, {0, 0}).size(), 1u);
  EXPECT_EQ(cpu.state(), ConditionState::ok);
}

TEST(ThresholdTest, PersistenceOfOneActsOnEveryReading) {
  ThresholdTracker cpu("cpu", {70, 85}, {1, 0});
  EXPECT_EQ(feed(cpu, {71}).size(), 1u);
  EXPECT_EQ(feed(cpu, {69}).size(), 1u);
}

TEST(ThresholdTest, SetCreatesTrackersPerMetricWithThePrefixThresholds) {
  ThresholdSet set({2, 5});
  set.define("disk", {80, 95});
  set.define("cpu", {70, 85});
  EXPECT_FALSE(set.update("disk:/home", 90));
  auto change = set.update("disk:/home", 90);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->metric, "disk:/home");
  EXPECT_FALSE(set.update("disk:/tmp", 90)) << "each filesystem keeps its own streak";
  EXPECT_FALSE(set.update("gpu", 100)) << "metrics without thresholds are ignored";
  EXPECT_EQ(set.trackers().size(), 2u);
}

}  // namespace

namespace {

// The text of each step names the threshold it crossed: a step down from critical to
// warning is "back under the critical threshold", never "warning at <critical %>".
TEST(ThresholdTest, TextsNameTheThresholdCrossed) {
  ThresholdTracker cpu("cpu", {70, 85}, {2, 5});
  auto up = feed(cpu, {90, 92});
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(describe(up[0]), "cpu at 92% of the ceiling (over the critical threshold, 85%)");
  auto down = feed(cpu, {75, 74});
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].to, ConditionState::warning);
  EXPECT_EQ(down[0].threshold, ConditionState::critical);
  EXPECT_EQ(describe(down[0]), "cpu at 74% of the ceiling (back under the critical threshold, 85%)");
  auto ok = feed(cpu, {20, 20});
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(describe(ok[0]), "cpu at 20% of the ceiling (back under the warning threshold, 70%)");

  ThresholdTracker disk("disk:/home", {80, 95}, {2, 5});
  auto rise = feed(disk, {85, 86});
  ASSERT_EQ(rise.size(), 1u);
  EXPECT_EQ(describe(rise[0]), "disk /home 86% used (over the warning threshold, 80%)");
  // Straight from critical to normal: below both, the warning one is named.
  feed(disk, {99, 99});
  auto cleared = feed(disk, {10, 10});
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].to, ConditionState::ok);
  EXPECT_EQ(describe(cleared[0]), "disk /home 10% used (back under the warning threshold, 80%)");
}

}  // namespace
