// Durations, sizes and shares as users type them.
#include <gtest/gtest.h>

#include "guardian/config/quantity.hpp"

using namespace guardian::config;
using std::chrono::milliseconds;

TEST(Duration, ParsesEveryUnitAndCombinations) {
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("90s"), milliseconds(90000));
  EXPECT_EQ(parse_duration("15m"), milliseconds(900000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5400000));
  EXPECT_EQ(parse_duration("1m30s"), milliseconds(90000));
  EXPECT_EQ(parse_duration("2.5s"), milliseconds(2500));
  EXPECT_EQ(parse_duration("1d"), milliseconds(86400000));
  EXPECT_EQ(parse_duration(" 10s "), milliseconds(10000));
}

TEST(Duration, BareNumberMeansSeconds) { EXPECT_EQ(parse_duration("42"), milliseconds(42000)); }

TEST(Duration, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "abc", "10x", "s", "-5s", "1.2.3s", "10s5", "ms"})
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}

TEST(Duration, FormatsTheShortestExactSpelling) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(format_duration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(format_duration(milliseconds(3600000)), "1h");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1s500ms");
}

TEST(Duration, FormatThenParseRoundTrips) {
  for (long ms : {1L, 999L, 1000L, 61001L, 7200000L, 86399999L})
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms)) << ms;
}

TEST(Bytes, ParsesBinaryUnits) {
  EXPECT_EQ(parse_bytes("512"), 512u);
  EXPECT_EQ(parse_bytes("1K"), 1024u);
  EXPECT_EQ(parse_bytes("512M"), 512ull << 20);
  EXPECT_EQ(parse_bytes("2G"), 2ull << 30);
  EXPECT_EQ(parse_bytes("2GiB"), 2ull << 30);
  EXPECT_EQ(parse_bytes("1.5g"), 3ull << 29);
  EXPECT_EQ(parse_bytes("100B"), 100u);
  for (const char* bad : {"", "G", "12X", "1GG", "-1G"}) EXPECT_FALSE(parse_bytes(bad).has_value()) << bad;
}

TEST(Bytes, FormatsForHumans) {
  EXPECT_EQ(format_bytes(100), "100 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(200ull << 20), "200 MiB");
}

TEST(Percent, ParsesShares) {
  EXPECT_DOUBLE_EQ(*parse_percent("80%"), 0.8);
  EXPECT_DOUBLE_EQ(*parse_percent("150%"), 1.5);
  EXPECT_FALSE(parse_percent("80").has_value());
  EXPECT_FALSE(parse_percent("%").has_value());
}
