#include "guardian/process/launch.hpp"

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>

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

// In the forked child: closes every descriptor but 0, 1, 2, the inherited ones and `keep`
// (the launcher's exec-error pipe, close-on-exec itself). Descriptors guardian opened
// without O_CLOEXEC — sockets Asio creates, a plugin's listening socket — never reach the
// command; Boost.Process 1.81's own close_all leaves the gaps below its pipe open.
// Async-signal-safe: close_range, or close() one by one where it is missing.
void close_all_but_inherited(const int* keep, std::size_t keep_count) {
  int open_fds[kMaxInheritedFds + 8];
  std::size_t count = 0;
  auto add = [&](int fd) {
    if (fd < 3 || count == sizeof(open_fds) / sizeof(open_fds[0])) return;
    std::size_t at = count++;
    while (at > 0 && open_fds[at - 1] > fd) {  // insertion sort: no allocation after fork
      open_fds[at] = open_fds[at - 1];
      --at;
    }
    open_fds[at] = fd;
  };
  for (std::size_t i = 0; i < g_inherited.fd_count; ++i) add(g_inherited.fds[i]);
  for (std::size_t i = 0; i < keep_count; ++i) add(keep[i]);
  auto close_between = [](unsigned first, unsigned last) {
    if (first > last) return;
    if (::close_range(first, last, 0) == 0) return;
    rlimit limit{};
    unsigned end = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536 ? limit.rlim_cur : 65536;
    for (unsigned fd = first; fd <= last && fd < end; ++fd) ::close(static_cast<int>(fd));
  };
  unsigned next = 3;
  for (std::size_t i = 0; i < count; ++i) {
    const auto fd = static_cast<unsigned>(open_fds[i]);
    if (fd > next) close_between(next, fd - 1);
    if (fd + 1 > next) next = fd + 1;
  }
  close_between(next, ~0U);
}

// Boost.Process v2 initializer: everything here runs in the forked child.
struct ChildSetup {
  const LaunchSpec& spec;
  pid_t parent_pid;
  std::vector<const char*> argv;

  template <typename Launcher>
  boost::system::error_code on_exec_setup(Launcher& launcher, const boost::filesystem::path&,
                                          const char* const*(&cmd_line)) {
    auto fail = [](int err) {
      errno = err;  // the launcher reports errno, not the returned code, to the parent
      return boost::system::error_code(err, boost::system::system_category());
    };
    // Die with guardian. The parent may already have died between fork and prctl: then
    // we were re-parented and must not run the command at all.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail(errno);
    if (::getppid() != parent_pid) ::_exit(125);

    if (::setpgid(0, 0) != 0) return fail(errno);
    if (spec.foreground_terminal_fd >= 0) {
      // Taking the foreground from a background group raises SIGTTOU; block it briefly.
      sigset_t ttou, old;
      sigemptyset(&ttou);
      sigaddset(&ttou, SIGTTOU);
      ::sigprocmask(SIG_BLOCK, &ttou, &old);
      ::tcsetpgrp(spec.foreground_terminal_fd, ::getpid());
      ::sigprocmask(SIG_SETMASK, &old, nullptr);
    }
    if (spec.enter_limits)
      if (int err = spec.enter_limits(); err != 0) return fail(err);

    for (int signo : kRestoredSignals) {
      struct sigaction action {};
      action.sa_handler = g_inherited.ignored[signo] ? SIG_IGN : SIG_DFL;
      sigemptyset(&action.sa_mask);
      ::sigaction(signo, &action, nullptr);
    }
    if (g_inherited.captured) ::sigprocmask(SIG_SETMASK, &g_inherited.mask, nullptr);
    // A raised soft limit would break programs that still use select() on fds below 1024.
    if (g_inherited.open_files) ::setrlimit(RLIMIT_NOFILE, &*g_inherited.open_files);
    // Last: the terminal's descriptor and the limiter's were needed above.
    close_all_but_inherited(launcher.fd_whitelist.data(), launcher.fd_whitelist.size());
    cmd_line = argv.data();  // argv[0] as typed, not the resolved path
    return {};
  }
};

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

Process launch(boost::asio::io_context& io, const LaunchSpec& spec, std::error_code& error) {
  namespace bp = boost::process::v2;
  ChildSetup setup{spec, ::getpid(), {}};
  for (const auto& arg : spec.argv) setup.argv.push_back(arg.c_str());
  setup.argv.push_back(nullptr);

  std::vector<std::string> args(spec.argv.size() > 1 ? spec.argv.begin() + 1 : spec.argv.end(),
                                spec.argv.end());
  boost::system::error_code ec;
  bp::process_environment environment(spec.environment);
  auto launcher = bp::default_process_launcher();
  // Boost closes everything above the highest descriptor of this list after our set-up:
  // the inherited ones must stay.
  for (std::size_t i = 0; i < g_inherited.fd_count; ++i) launcher.fd_whitelist.push_back(g_inherited.fds[i]);
  auto start_dir = spec.working_dir.empty() ? std::filesystem::current_path() : spec.working_dir;
  auto run = [&](auto&&... extra) {
    return launcher(io.get_executor(), ec, boost::filesystem::path(spec.program.string()), args, environment,
                    bp::process_start_dir(start_dir.string()), extra..., setup);
  };
  // Without redirections nothing is dup2'ed (a closed stdin must stay a non-error).
  bool redirected = spec.stdin_fd >= 0 || spec.stdout_fd >= 0 || spec.stderr_fd >= 0;
  Process child = redirected
      ? run(bp::process_stdio{bp::detail::process_input_binding(spec.stdin_fd >= 0 ? spec.stdin_fd : STDIN_FILENO),
                              bp::detail::process_output_binding(spec.stdout_fd >= 0 ? spec.stdout_fd : STDOUT_FILENO),
                              bp::detail::process_error_binding(spec.stderr_fd >= 0 ? spec.stderr_fd : STDERR_FILENO)})
      : run();
  error = std::error_code(ec.value(), std::system_category());
  return child;
}

}  // namespace guardian::process
