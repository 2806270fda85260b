#include "guardian/process/launch.hpp"

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <optional>

namespace guardian::process {
namespace {

// Signals whose disposition guardian changes for itself and must hand back unchanged.
constexpr int kRestoredSignals[] = {SIGPIPE, SIGTTOU, SIGTTIN, SIGTSTP, SIGINT, SIGQUIT,
                                    SIGHUP,  SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM};

struct InheritedState {
  bool captured = false;
  sigset_t mask{};
  bool ignored[NSIG] = {};
  std::optional<rlimit> open_files;  // guardian raises its own; children get this one back
};
InheritedState g_inherited;

// Boost.Process v2 initializer: everything here runs in the forked child.
struct ChildSetup {
  const LaunchSpec& spec;
  pid_t parent_pid;
  std::vector<const char*> argv;

  template <typename Launcher>
  boost::system::error_code on_exec_setup(Launcher&, const boost::filesystem::path&,
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
