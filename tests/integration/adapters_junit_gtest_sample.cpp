// A GoogleTest program that is NOT part of the test suite: the JUnit adapter's integration test
// runs it under guardian with --gtest_output=xml:PATH to get real GoogleTest XML (one pass, two
// failures, one skip, one disabled test).
#include <gtest/gtest.h>

#include <thread>

TEST(Sample, Passes) { EXPECT_EQ(1 + 1, 2); }

TEST(Sample, Fails) { EXPECT_EQ(2 + 2, 5) << "arithmetic is broken"; }

TEST(Sample, SlowPasses) { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

TEST(Sample, Skipped) { GTEST_SKIP() << "not today"; }

TEST(Sample, DISABLED_NeverRuns) { FAIL(); }

TEST(Other, FailsWithPipe) { FAIL() << "a | b <not> & \"quoted\""; }
