// Finding the program: not found (127) versus found but not executable (126).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "guardian/process/command_lookup.hpp"

using namespace guardian::process;
namespace fs = std::filesystem;

namespace {

class LookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("guardian-lookup-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "other");
    std::ofstream(dir_ / "bin" / "tool") << "#!/bin/sh\n";
    ::chmod((dir_ / "bin" / "tool").c_str(), 0755);
    std::ofstream(dir_ / "other" / "plain") << "data\n";
    ::chmod((dir_ / "other" / "plain").c_str(), 0644);
    fs::create_directories(dir_ / "bin" / "adir");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path() const { return (dir_ / "other").string() + ":" + (dir_ / "bin").string(); }
  fs::path dir_;
};

}  // namespace

TEST_F(LookupTest, FindsOnPath) {
  auto found = find_program("tool", path());
  ASSERT_TRUE(std::holds_alternative<fs::path>(found));
  EXPECT_EQ(std::get<fs::path>(found), dir_ / "bin" / "tool");
}

TEST_F(LookupTest, MissingIs127WithAHint) {
  auto found = find_program("nosuchtool", path());
  ASSERT_TRUE(std::holds_alternative<LookupFailure>(found));
  EXPECT_EQ(std::get<LookupFailure>(found).exit_code, 127);
  EXPECT_NE(std::get<LookupFailure>(found).message.find("not in PATH"), std::string::npos);
}

TEST_F(LookupTest, NotExecutableIs126AndSaysChmod) {
  auto found = find_program((dir_ / "other" / "plain").string(), path());
  ASSERT_TRUE(std::holds_alternative<LookupFailure>(found));
  EXPECT_EQ(std::get<LookupFailure>(found).exit_code, 126);
  EXPECT_NE(std::get<LookupFailure>(found).message.find("chmod +x"), std::string::npos);
}

TEST_F(LookupTest, NonExecutableOnPathIs126WhenNothingBetterExists) {
  auto found = find_program("plain", path());
  ASSERT_TRUE(std::holds_alternative<LookupFailure>(found));
  EXPECT_EQ(std::get<LookupFailure>(found).exit_code, 126);
}

TEST_F(LookupTest, DirectoryIs126) {
  auto found = find_program((dir_ / "bin" / "adir").string(), path());
  ASSERT_TRUE(std::holds_alternative<LookupFailure>(found));
  EXPECT_EQ(std::get<LookupFailure>(found).exit_code, 126);
}

TEST_F(LookupTest, MissingPathIs127) {
  auto found = find_program((dir_ / "nope").string(), path());
  ASSERT_TRUE(std::holds_alternative<LookupFailure>(found));
  EXPECT_EQ(std::get<LookupFailure>(found).exit_code, 127);
}
