// Hostile and careless configuration input (issue 15): each must be refused with a message
// that says what to do, never read wrongly, never crash or hang.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "guardian/config/config.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/config/schema.hpp"
#include "guardian/config/toml_text.hpp"

using namespace guardian::config;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

std::string load_error(const std::string& toml_text) {
  Config config = Config::defaults();
  try {
    config.add_file_layer(toml_text, "guardian.toml", false);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string set_error(const std::string& key, const std::string& value) {
  Config config = Config::defaults();
  try {
    config.set(key, value, Origin{Origin::Layer::flag, "x"});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string file_error(const fs::path& path) {
  try {
    read_config_file(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConfigEdges, DurationListOutlivesTheTextItWasParsedFrom) {
  // duration_list used to keep a string_view into a temporary copy of the value: freed memory.
  std::string list;
  for (int i = 1; i <= 64; ++i) list += (i > 1 ? "," : "") + std::to_string(i) + "s";
  Config config = Config::defaults();
  config.set("servers.api.startup_timeouts", list, Origin{});
  const auto durations = config.duration_list("servers.api.startup_timeouts");
  ASSERT_EQ(durations.size(), 64u);
  for (int i = 1; i <= 64; ++i) EXPECT_EQ(durations[static_cast<std::size_t>(i - 1)], milliseconds(i * 1000)) << i;
}

TEST(ConfigEdges, DurationsPastTheTimersRangeAreRefusedNamingTheMaximum) {
  EXPECT_FALSE(parse_duration("110000d").has_value());
  EXPECT_TRUE(duration_beyond_maximum("110000d"));
  EXPECT_EQ(parse_duration("36500d"), kMaxDuration);
  // Timers count nanoseconds in an int64: the maximum must fit with room for the clock's epoch.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::nanoseconds>(kMaxDuration).count(),
            std::numeric_limits<std::int64_t>::max() / 2);
  const std::string error = set_error("run.timeout", "110000d");
  EXPECT_NE(error.find("36500d"), std::string::npos) << error;
  EXPECT_NE(error.find("use a shorter one"), std::string::npos) << error;
  EXPECT_NE(set_error("servers.api.startup_timeouts", "90s,110000d").find("36500d"), std::string::npos);
}

TEST(ConfigEdges, AbsurdCpuValuesAreRefused) {
  for (const char* bad : {"inf", "nan", "1e300", "-1", "0", "1e3", "99999999", "infinity", "0x10"}) {
    EXPECT_FALSE(parse_cores(bad).has_value()) << bad;
    EXPECT_NE(set_error("limits.cpu", bad), "") << bad;
  }
  EXPECT_EQ(parse_cores("1.5"), 1.5);
  EXPECT_EQ(parse_cores("150%"), 1.5);
  EXPECT_EQ(set_error("limits.cpu", "2"), "");
  EXPECT_NE(set_error("limits.cpu", "inf").find("at most 65536 cores"), std::string::npos);
}

TEST(ConfigEdges, AbsurdMemoryValuesAreRefusedInsteadOfWrapping) {
  EXPECT_FALSE(parse_bytes("10000000T").has_value());
  EXPECT_TRUE(bytes_beyond_maximum("10000000T"));
  EXPECT_EQ(parse_bytes("1048576T"), kMaxBytes);
  const std::string error = set_error("limits.memory", "10000000T");
  EXPECT_NE(error.find("1048576T"), std::string::npos) << error;
  EXPECT_EQ(set_error("limits.memory", "512M"), "");
}

TEST(ConfigEdges, NonAsciiOutsideStringsNeverReachesToml) {
  // toml++ 3.3.0 reaches __builtin_unreachable() on these bytes (U+01C7 where whitespace is expected).
  const std::string bytes = "''\xc6\x87(";
  auto problem = toml_text_problem(bytes);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->column, 3u);
  const std::string error = load_error(bytes);
  EXPECT_NE(error.find("guardian.toml:1:3: not valid TOML"), std::string::npos) << error;
  EXPECT_NE(error.find("non-ASCII"), std::string::npos) << error;
  // Inside strings and comments, any text is fine.
  EXPECT_EQ(load_error("# caf\xc3\xa9 \xc6\x87\n[monitor]\ndisks = \"caf\xc3\xa9 \xc6\x87\"\n"), "");
  EXPECT_EQ(load_error("[monitor]\ndisks = '''a\n\xc6\x87'''\n"), "");
  EXPECT_EQ(load_error("[monitor]\ndisks = \"\"\"a\\\"\"\"\xc6\x87\"\"\"\n"), "");
  EXPECT_NE(load_error("[monitor]\ndisks = \"a\"\xc6\x87\n"), "");
}

TEST(ConfigEdges, TableHeadersWithoutANameNeverReachToml) {
  // Each trips an assertion in toml++ 3.3.0's parse_key.
  for (const char* bad : {"[=", "[\\t]", "[.", "[[=", "[#", " [\n", "[[ #"}) {
    auto problem = toml_text_problem(bad);
    EXPECT_TRUE(problem.has_value()) << bad;
    EXPECT_NE(load_error(bad).find("table header must start with a name"), std::string::npos) << bad;
  }
  // Arrays of arrays are values, not headers.
  EXPECT_FALSE(toml_text_problem("a = [\n  [ ],\n  [1],\n]\n").has_value());
  EXPECT_FALSE(toml_text_problem("[run]\n[[servers]]\n[ \"a b\" ]\n").has_value());
}

class ConfigFileEdges : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("guardian-config-edges-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ConfigFileEdges, ADirectoryIsNotAConfigFile) {
  const std::string error = file_error(dir_);
  EXPECT_NE(error.find("is a directory, not a regular file"), std::string::npos) << error;
  EXPECT_NE(error.find("point --config at"), std::string::npos) << error;
}

TEST_F(ConfigFileEdges, DevicesAreNotConfigFiles) {
  for (const char* device : {"/dev/zero", "/dev/urandom", "/dev/null"}) {
    const std::string error = file_error(device);
    EXPECT_NE(error.find("is a character device"), std::string::npos) << device << ": " << error;
  }
}

TEST_F(ConfigFileEdges, AFifoWithoutWriterIsRefusedWithoutBlocking) {
  const fs::path fifo = dir_ / "config.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string error = file_error(fifo);  // used to block forever in open()
  EXPECT_NE(error.find("is a FIFO"), std::string::npos) << error;
}

TEST_F(ConfigFileEdges, AMissingFileSaysSo) {
  EXPECT_NE(file_error(dir_ / "nope.toml").find("does not exist"), std::string::npos);
}

TEST_F(ConfigFileEdges, AnOversizedFileIsRefused) {
  const fs::path big = dir_ / "big.toml";
  std::ofstream(big) << std::string(kMaxConfigFileBytes + 1, '#');
  EXPECT_NE(file_error(big).find("more than"), std::string::npos);
}

TEST_F(ConfigFileEdges, ARegularFileIsReadWhole) {
  const fs::path file = dir_ / "guardian.toml";
  std::ofstream(file) << "[run]\ntimeout = \"5s\"\n";
  EXPECT_EQ(read_config_file(file), "[run]\ntimeout = \"5s\"\n");
}
