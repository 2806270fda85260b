#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace guardian::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Appends whatever is readable now; returns false once the pipe is at EOF.
bool drain(int fd, std::string& into) {
  char buffer[8192];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

std::string random_marker() {
  std::random_device device;
  std::ostringstream text;
  for (int i = 0; i < 4; ++i) text << std::hex << device();
  return text.str();
}

}  // namespace

std::string guardian_bin() {
  // Lets the suite run against another build or an installed guardian (and lets the
  // suite's own sensitivity be checked against deliberately broken binaries).
  const char* override_path = std::getenv("GUARDIAN_IT_BINARY");
  return override_path != nullptr && *override_path != '\0' ? override_path : GUARDIAN_BIN;
}
std::string target_bin() { return GUARDIAN_TARGET_BIN; }

std::string RunResult::describe() const {
  std::ostringstream text;
  text << "exit_code=" << exit_code << " term_signal=" << term_signal
       << (deadline_hit ? " (killed by the harness at its deadline)" : "")
       << (pipes_left_open ? " (stdout/stderr still held open by some process)" : "")
       << "\n--- stdout ---\n" << out << "\n--- stderr ---\n" << err << "\n---";
  return text.str();
}

std::vector<std::string> RunResult::err_lines() const { return split_lines(err); }
std::vector<std::string> RunResult::out_lines() const { return split_lines(out); }

namespace {
bool is_ci_variable(std::string_view entry) {
  for (std::string_view name : {"CI", "GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_STEP_SUMMARY"})
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') return true;
  return false;
}
}  // namespace

std::vector<std::string> child_environment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    // The test may itself run under guardian (or with GUARDIAN_* settings exported):
    // none of that may leak into the guardian under test.
    if (std::string_view(*entry).starts_with("GUARDIAN_")) continue;
    // CI=true (our own CI sets it) would make guardian default to mode test and talk to
    // GitHub/GitLab: a test that wants CI sets these variables itself through `extra`.
    if (is_ci_variable(*entry)) continue;
    env.emplace_back(*entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

GuardianProcess::GuardianProcess(const SpawnOptions& options) {
  std::vector<std::string> argv_storage{options.program.empty() ? guardian_bin() : options.program};
  argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = child_environment(options.env);
  std::vector<char*> envp;
  for (auto& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const std::string cwd = options.cwd.string();

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    // gtest and the test runner may block or ignore signals: guardian starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal_number = 1; signal_number < NSIG; ++signal_number) signal(signal_number, SIG_DFL);
    if (chdir(cwd.c_str()) != 0) _exit(121);
    execve(argv[0], argv.data(), envp.data());
    _exit(122);
  }
  pid_ = pid;
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) ADD_FAILURE() << "pidfd_open: " << std::strerror(errno);
}

GuardianProcess::~GuardianProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  for (int fd : {pidfd_, out_fd_, err_fd_})
    if (fd >= 0) close(fd);
}

void GuardianProcess::reap_if_exited() {
  if (exited_ || pid_ <= 0) return;
  int status = 0;
  const pid_t reaped = waitpid(pid_, &status, WNOHANG);
  if (reaped != pid_) return;
  exited_ = true;
  if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result_.term_signal = WTERMSIG(status);
}

void GuardianProcess::pump(int timeout_ms) {
  pollfd fds[3];
  nfds_t count = 0;
  if (out_fd_ >= 0) fds[count++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[count++] = {err_fd_, POLLIN, 0};
  if (!exited_ && pidfd_ >= 0) fds[count++] = {pidfd_, POLLIN, 0};
  if (count == 0) return;
  if (poll(fds, count, timeout_ms) < 0 && errno != EINTR) return;
  if (out_fd_ >= 0 && !drain(out_fd_, result_.out)) {
    close(out_fd_);
    out_fd_ = -1;
  }
  if (err_fd_ >= 0 && !drain(err_fd_, result_.err)) {
    close(err_fd_);
    err_fd_ = -1;
  }
  reap_if_exited();
}

bool GuardianProcess::wait_for_stdout(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (result_.out.find(needle) == std::string::npos) {
    if (exited_ && out_fd_ < 0) return false;
    const int left = remaining_ms(deadline);
    if (left == 0) return false;
    pump(std::min(left, 100));
  }
  return true;
}

void GuardianProcess::send_signal(int signal_number) {
  ASSERT_GT(pid_, 0);
  reap_if_exited();
  ASSERT_FALSE(exited_) << "guardian already ended before signal " << signal_number
                        << " could be sent\n" << result_.describe();
  ASSERT_EQ(kill(pid_, signal_number), 0) << std::strerror(errno);
}

RunResult GuardianProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return result_;
  const auto deadline = Clock::now() + timeout;
  while (!exited_ && remaining_ms(deadline) > 0) pump(std::min(remaining_ms(deadline), 100));
  if (!exited_) {
    result_.deadline_hit = true;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    result_.term_signal = SIGKILL;
    ADD_FAILURE() << "guardian did not end within " << timeout.count() << " ms; killed it\n"
                  << result_.describe();
  }
  // Once guardian has ended nothing of the run may hold its output pipes; a process
  // that does (a survivor) is reported by expect_no_orphans, so only wait briefly.
  const auto drain_deadline = Clock::now() + 2s;
  while ((out_fd_ >= 0 || err_fd_ >= 0) && remaining_ms(drain_deadline) > 0)
    pump(std::min(remaining_ms(drain_deadline), 100));
  result_.pipes_left_open = out_fd_ >= 0 || err_fd_ >= 0;
  return result_;
}

std::vector<MarkedProcess> processes_with_marker(const std::string& marker) {
  const std::string needle = std::string(kMarkerVariable) + "=" + marker;
  std::vector<MarkedProcess> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (pid == getpid()) continue;
    // Only the marker is compared; nothing else of another process's environment is kept.
    std::ifstream environ_file(entry.path() / "environ", std::ios::binary);
    bool marked = false;
    for (std::string variable; std::getline(environ_file, variable, '\0');) {
      if (variable == needle) {
        marked = true;
        break;
      }
    }
    if (!marked) continue;
    MarkedProcess process;
    process.pid = pid;
    const std::string stat = read_text_file(entry.path() / "stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren != std::string::npos && close_paren + 2 < stat.size()) process.state = stat[close_paren + 2];
    if (process.state == 'Z' || process.state == 'X') continue;
    std::string cmdline = read_text_file(entry.path() / "cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    process.cmdline = cmdline;
    found.push_back(process);
  }
  return found;
}

void expect_no_orphans(const std::string& marker, std::chrono::milliseconds settle) {
  const auto deadline = Clock::now() + settle;
  std::vector<MarkedProcess> survivors = processes_with_marker(marker);
  while (!survivors.empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    survivors = processes_with_marker(marker);
  }
  if (survivors.empty()) return;
  std::ostringstream list;
  for (const auto& process : survivors)
    list << "\n  pid " << process.pid << " state " << process.state << ": " << process.cmdline;
  ADD_FAILURE() << survivors.size() << " process(es) started by the run are still alive:" << list.str();
  for (const auto& process : survivors) kill(process.pid, SIGKILL);
}

std::string read_text_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

Json read_json_file(const fs::path& path) {
  if (!fs::exists(path)) {
    ADD_FAILURE() << "missing JSON file " << path;
    return nullptr;
  }
  const std::string text = read_text_file(path);
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    ADD_FAILURE() << path << " is not valid JSON:\n" << text;
    return nullptr;
  }
  return parsed;
}

std::vector<Json> read_json_lines(const fs::path& path) {
  std::vector<Json> lines;
  if (!fs::exists(path)) {
    ADD_FAILURE() << "missing JSON Lines file " << path;
    return lines;
  }
  std::ifstream file(path);
  int number = 0;
  for (std::string line; std::getline(file, line);) {
    ++number;
    Json parsed = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      ADD_FAILURE() << path << ":" << number << " is not valid JSON: " << line;
      continue;
    }
    lines.push_back(std::move(parsed));
  }
  return lines;
}

fs::path only_run_dir(const fs::path& cwd) {
  const fs::path runs = cwd / ".guardian" / "runs";
  std::vector<fs::path> dirs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(runs, error))
    if (entry.is_directory()) dirs.push_back(entry.path());
  if (dirs.size() != 1) {
    ADD_FAILURE() << "expected exactly one run directory under " << runs << ", found " << dirs.size();
    return {};
  }
  return dirs.front();
}

void GuardianTest::SetUp() {
  std::string pattern = (fs::temp_directory_path() / "guardian-it-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
  dir_ = pattern;
  marker_ = random_marker();
}

void GuardianTest::TearDown() {
  expect_no_orphans(marker_);
  // Kept on failure so the run directory can be inspected.
  if (!HasFailure()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  } else {
    std::cerr << "[harness] kept the working directory " << dir_ << "\n";
  }
}

std::vector<std::string> GuardianTest::run_target(std::vector<std::string> flags,
                                                  std::vector<std::string> target_args) {
  std::vector<std::string> args{"run"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("--");
  args.push_back(target_bin());
  args.insert(args.end(), target_args.begin(), target_args.end());
  return args;
}

std::vector<std::string> GuardianTest::run_target_reported(std::vector<std::string> flags,
                                                           std::vector<std::string> target_args) const {
  flags.push_back("--report");
  flags.push_back(report_copy_path().string());
  return run_target(std::move(flags), std::move(target_args));
}

SpawnOptions GuardianTest::options(std::vector<std::string> args) const {
  SpawnOptions spawn;
  spawn.args = std::move(args);
  spawn.cwd = dir_;
  spawn.env.emplace_back(std::string(kMarkerVariable), marker_);
  return spawn;
}

RunResult GuardianTest::run(std::vector<std::string> args, std::chrono::milliseconds timeout) const {
  GuardianProcess process(options(std::move(args)));
  return process.wait(timeout);
}

std::unique_ptr<GuardianProcess> GuardianTest::start(std::vector<std::string> args) const {
  return std::make_unique<GuardianProcess>(options(std::move(args)));
}

}  // namespace guardian::testing
