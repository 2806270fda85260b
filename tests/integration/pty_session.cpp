#include "pty_session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace guardian::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

PtySession::PtySession(const SpawnOptions& options) {
  std::vector<std::string> argv_storage{options.program.empty() ? guardian_bin() : options.program};
  argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = child_environment(options.env);
  env_storage.emplace_back("TERM=dumb");
  std::vector<char*> envp;
  for (auto& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const std::string cwd = options.cwd.string();

  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) {
    ADD_FAILURE() << "forkpty: " << std::strerror(errno);
    return;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal_number = 1; signal_number < NSIG; ++signal_number) signal(signal_number, SIG_DFL);
    if (chdir(cwd.c_str()) != 0) _exit(121);
    execve(argv[0], argv.data(), envp.data());
    _exit(122);
  }
  pid_ = pid;
  master_fd_ = master;
  fcntl(master_fd_, F_SETFL, O_NONBLOCK);
  fcntl(master_fd_, F_SETFD, FD_CLOEXEC);
}

PtySession::~PtySession() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (master_fd_ >= 0) close(master_fd_);
}

void PtySession::reap_if_exited() {
  if (exited_ || pid_ <= 0) return;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return;
  exited_ = true;
  if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result_.term_signal = WTERMSIG(status);
}

void PtySession::pump(int timeout_ms) {
  if (master_fd_ >= 0) {
    pollfd entry{master_fd_, POLLIN, 0};
    poll(&entry, 1, timeout_ms);
    char buffer[4096];
    for (;;) {
      const ssize_t n = read(master_fd_, buffer, sizeof buffer);
      if (n > 0) {
        result_.out.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      // EIO: every holder of the terminal's slave side has gone.
      if (n == 0 || (n < 0 && errno == EIO)) {
        close(master_fd_);
        master_fd_ = -1;
      }
      break;
    }
  } else {
    poll(nullptr, 0, std::min(timeout_ms, 20));
  }
  reap_if_exited();
}

bool PtySession::wait_for(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (result_.out.find(needle) == std::string::npos) {
    if (exited_ && master_fd_ < 0) return false;
    const int left = remaining_ms(deadline);
    if (left == 0) return false;
    pump(std::min(left, 100));
  }
  return true;
}

void PtySession::type(std::string_view bytes) {
  ASSERT_GE(master_fd_, 0) << "the terminal is already closed";
  ASSERT_EQ(write(master_fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()))
      << std::strerror(errno);
}

RunResult PtySession::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return result_;
  const auto deadline = Clock::now() + timeout;
  while (!exited_ && remaining_ms(deadline) > 0) pump(std::min(remaining_ms(deadline), 100));
  if (!exited_) {
    result_.deadline_hit = true;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    exited_ = true;
    result_.term_signal = SIGKILL;
    ADD_FAILURE() << "guardian did not end within " << timeout.count() << " ms; killed it\n"
                  << result_.describe();
  }
  const auto drain_deadline = Clock::now() + 1s;
  while (master_fd_ >= 0 && remaining_ms(drain_deadline) > 0) pump(std::min(remaining_ms(drain_deadline), 100));
  return result_;
}

}  // namespace guardian::testing
