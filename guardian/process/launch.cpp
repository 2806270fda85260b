#include "guardian/process/launch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace guardian::process {
namespace {

// Signals whose disposition guardian changes for itself and must hand back unchanged.
constexpr int kRestoredSignals[] = {SIGPIPE, SIGTTOU, SIGTTIN, SIGTSTP, SIGINT, SIGQUIT,
                                    SIGHUP,  SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM};

// Descriptors guardian was given beyond 0, 1 and 2 (`guardian run -- cmd 3<file`): every
// child gets exactly these back, and nothing guardian opened itself.
constexpr std::size_t kMaxInheritedFds = 64;

struct InheritedState {
  bool captured = false;
  sigset_t mask{};
  bool ignored[NSIG] = {};
  std::optional<rlimit> open_files;  // guardian raises its own; children get this one back
  int fds[kMaxInheritedFds] = {};    // ascending
  std::size_t fd_count = 0;
};
InheritedState g_inherited;

// In the child: closes every descriptor but 0, 1, 2 and the inherited ones (sorted, all
// above 2). Descriptors guardian opened without O_CLOEXEC — sockets Asio creates, a plugin's
// listening socket — never reach the command. Async-signal-safe: close_range, or close()
// one by one where it is missing (before Linux 5.9).
void close_all_but_inherited() {
  auto close_between = [](unsigned first, unsigned last) {
    if (first > last) return;
    if (::close_range(first, last, 0) == 0) return;
    rlimit limit{};
    unsigned end = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536 ? limit.rlim_cur : 65536;
    for (unsigned fd = first; fd <= last && fd < end; ++fd) ::close(static_cast<int>(fd));
  };
  unsigned next = 3;
  for (std::size_t i = 0; i < g_inherited.fd_count; ++i) {
    const auto fd = static_cast<unsigned>(g_inherited.fds[i]);
    if (fd > next) close_between(next, fd - 1);
    if (fd + 1 > next) next = fd + 1;
  }
  close_between(next, ~0U);
}

// What the child needs, prepared by the parent: after vfork the child shares guardian's
// memory (and its heap's locks) until execve, so it must not allocate.
struct ChildPlan {
  const LaunchSpec& spec;
  pid_t parent_pid;
  const char* program;
  const char* working_dir;  // nullptr: inherit
  char* const* argv;
  char* const* envp;
  const sigset_t* mask;  // what the command starts with
};

// In the vfork child; async-signal-safe calls only. Returns an errno value when the command
// cannot start; on success execve does not return.
int start_in_child(const ChildPlan& plan) {
  // Guardian's signal handlers must never run here (they would act for guardian, in its
  // memory): every caught signal goes back to its default; all are blocked until the end.
  for (int signo = 1; signo < NSIG; ++signo) {
    struct sigaction current {};
    if (signo == SIGKILL || signo == SIGSTOP || ::sigaction(signo, nullptr, &current) != 0) continue;
    if (current.sa_handler == SIG_IGN || current.sa_handler == SIG_DFL) continue;
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(signo, &fallback, nullptr);
  }
  // Die with guardian. The parent may already have died between vfork and prctl: then we
  // were re-parented and must not run the command at all.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno;
  if (::getppid() != plan.parent_pid) ::_exit(125);

  const LaunchSpec& spec = plan.spec;
  if (::setpgid(0, 0) != 0) return errno;
  // Taking the foreground from a background group raises SIGTTOU: it is blocked here.
  if (spec.foreground_terminal_fd >= 0) ::tcsetpgrp(spec.foreground_terminal_fd, ::getpid());
  if (spec.enter_limits)
    if (int err = spec.enter_limits(); err != 0) return err;

  for (int signo : kRestoredSignals) {
    struct sigaction action {};
    action.sa_handler = g_inherited.ignored[signo] ? SIG_IGN : SIG_DFL;
    sigemptyset(&action.sa_mask);
    ::sigaction(signo, &action, nullptr);
  }
  // A raised soft limit would break programs that still use select() on fds below 1024.
  if (g_inherited.open_files) ::setrlimit(RLIMIT_NOFILE, &*g_inherited.open_files);
  if (plan.working_dir != nullptr && ::chdir(plan.working_dir) != 0) return errno;
  const int redirects[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  for (int target = 0; target < 3; ++target)
    if (redirects[target] >= 0 && redirects[target] != target && ::dup2(redirects[target], target) != target)
      return errno;
  // Last: the terminal's descriptor, the limiter's and the redirections were needed above.
  close_all_but_inherited();
  ::sigprocmask(SIG_SETMASK, plan.mask, nullptr);
  ::execve(plan.program, plan.argv, plan.envp);
  return errno;
}

}  // namespace

void capture_inherited_state() {
  if (g_inherited.captured) return;
  rlimit open_files{};
  if (::getrlimit(RLIMIT_NOFILE, &open_files) == 0) g_inherited.open_files = open_files;
  ::sigprocmask(SIG_SETMASK, nullptr, &g_inherited.mask);
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (dirent* entry = ::readdir(dir)) {
      int fd = std::atoi(entry->d_name);
      if (fd < 3 || fd == ::dirfd(dir) || entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
      if (::fcntl(fd, F_GETFD) & FD_CLOEXEC) continue;  // not meant for children
      if (g_inherited.fd_count < kMaxInheritedFds) g_inherited.fds[g_inherited.fd_count++] = fd;
    }
    ::closedir(dir);
    std::sort(g_inherited.fds, g_inherited.fds + g_inherited.fd_count);
  }
  for (int signo : kRestoredSignals) {
    struct sigaction current {};
    ::sigaction(signo, nullptr, &current);
    g_inherited.ignored[signo] = current.sa_handler == SIG_IGN;
  }
  g_inherited.captured = true;
}

void raise_open_file_limit() {
  constexpr rlim_t kEnough = 65536;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= kEnough) return;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? kEnough : std::min(limit.rlim_max, kEnough);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

// vfork, as glibc's posix_spawn does: the child borrows guardian's address space until
// execve, so none of guardian's memory is copied or write-faulted page by page afterwards
// (Boost.Process's fork launcher cost every run two copies of the page tables and the
// faults that follow; its own vfork launcher re-creates the event loop's epoll in the child,
// in guardian's memory). All signals are blocked across it, so no handler of guardian's
// runs in the child; the parent waits, suspended, until the child has exec'ed or failed.
Process launch(boost::asio::io_context& io, const LaunchSpec& spec, std::error_code& error) {
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment = spec.environment;
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const std::string program = spec.program.string();
  const std::string working_dir = spec.working_dir.string();

  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const ChildPlan plan{spec,        ::getpid(),  program.c_str(), working_dir.empty() ? nullptr : working_dir.c_str(),
                       argv.data(), envp.data(), g_inherited.captured ? &g_inherited.mask : &previous};
  volatile int child_error = 0;  // written by the child before it exits; read once it has
  const pid_t pid = ::vfork();
  if (pid == 0) {
    child_error = start_in_child(plan);
    ::_exit(127);
  }
  const int vfork_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) {
    error = std::error_code(vfork_error, std::system_category());
    return Process(io.get_executor());
  }
  if (child_error != 0) {
    ::waitpid(pid, nullptr, 0);
    error = std::error_code(child_error, std::system_category());
    return Process(io.get_executor());
  }
  error.clear();
  return Process(io.get_executor(), pid);
}

}  // namespace guardian::process
