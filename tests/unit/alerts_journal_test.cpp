// The alerts.jsonl journal survives SIGKILL mid-burst: every line is whole JSON.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

std::uintmax_t size_of(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

TEST(AlertJournal, SigkillMidBurstLeavesNoTornLine) {
  const fs::path run_dir = fs::temp_directory_path() / ("guardian-journal-" + std::to_string(::getpid()));
  fs::remove_all(run_dir);
  const fs::path journal = run_dir / "alerts.jsonl";
  std::uintmax_t previous_size = 0;
  for (int round = 0; round < 8; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl(ALERTS_JOURNAL_WRITER, ALERTS_JOURNAL_WRITER, run_dir.c_str(), nullptr);
      ::_exit(127);
    }
    // Let the burst run (the journal grows), then kill at an arbitrary moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (size_of(journal) < previous_size + 100 * 1024 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(300 * round));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "writer exited early: " << status;
    ASSERT_GT(size_of(journal), previous_size) << "the writer made progress in round " << round;
    previous_size = size_of(journal);
  }

  std::ifstream in(journal, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(content.empty());
  std::size_t lines = 0;
  std::size_t padded = 0;
  std::size_t start = 0;
  while (start < content.size()) {
    const auto end = content.find('\n', start);
    if (end == std::string::npos) {
      // Only padding may follow the last newline (a kill between pad and record).
      EXPECT_EQ(content.find_first_not_of(' ', start), std::string::npos) << "torn record at the end";
      break;
    }
    const std::string line = content.substr(start, end - start);
    padded += line.front() == ' ' ? 1 : 0;
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << "torn line " << lines + 1 << ": " << line.substr(0, 80);
    EXPECT_EQ(parsed["message"].get<std::string>().size(), parsed["context"]["message_bytes"].get<std::size_t>());
    ++lines;
    start = end + 1;
  }
  EXPECT_GT(padded, 0u) << "records that would straddle a page boundary start on the next page";
  EXPECT_GT(lines, 8u * 10u);
  fs::remove_all(run_dir);
}

}  // namespace
