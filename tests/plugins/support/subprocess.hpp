// Subprocess: a child process for tests — argv, extra environment, stdout/stderr to
// files, bounded waits. Deliberately tiny (fork/exec), so tests see real exit statuses.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace guardian::testing {

class Subprocess {
 public:
  Subprocess(std::vector<std::string> argv, const std::filesystem::path& output_dir,
             std::map<std::string, std::string> env = {});
  ~Subprocess();  // SIGKILLs a child still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits up to timeout; returns the raw wait status, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill(int signal);
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::filesystem::path out_, err_;
};

// Polls condition every 10 ms until it is true or timeout passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string read_file(const std::filesystem::path& path);
std::vector<std::string> read_lines(const std::filesystem::path& path);

// A fresh directory under the test's temp dir, removed by the caller or left for inspection.
std::filesystem::path make_temp_dir(const std::string& prefix);

}  // namespace guardian::testing
