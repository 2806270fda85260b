// guardian-target: one helper program whose modes play every kind of child the
// integration tests need guardian to supervise (see usage_text below).
#include <string_view>

#include "modes.hpp"
#include "target_support.hpp"

namespace guardian::target {
namespace {

constexpr std::string_view kUsage = R"(usage: guardian-target MODE [ARGS...]

Every mode ends by itself (bounded by its SECONDS argument) and prints "ready"
on stdout, unbuffered, once it is in the state the test waits for.
Usage errors exit 2.

  exit N                      exit with status N (0..255)
  signal N                    die of signal N (number or name: 15, TERM, SIGTERM);
                              no core file is written
  sleep SECONDS               print "ready", sleep, exit 0 (fractions allowed: 0.3)
  spin THREADS SECONDS        busy-loop on THREADS threads, exit 0
  alloc MB HOLD_SECONDS [STEP_MB STEP_SECONDS]
                              allocate and touch MB MiB ("allocated N MB" every 64 MB
                              and at the end), hold them, exit 0; exit 4 if out of memory;
                              with a step: STEP_MB MiB every STEP_SECONDS (a slow leak)
  fork-tree DEPTH WIDTH SECONDS [ROOT_SECONDS]
                              every process forks WIDTH children, DEPTH levels deep;
                              all sleep SECONDS; when all run, the root prints
                              "tree N" (processes in the tree, itself included) and
                              "ready", then exits after ROOT_SECONDS (default SECONDS)
  fork-bomb                   print "ready", then every process forks copies of itself
                              forever (a refused fork is retried after 1 ms); ends only
                              when killed
  setsid-escape SECONDS [ESCAPEE_SECONDS]
                              an intermediate child calls setsid() and forks a
                              grandchild (the escapee), then exits; prints
                              "escapee PID" and "ready"; exits after SECONDS; the
                              escapee sleeps ESCAPEE_SECONDS (default SECONDS + 30)
  double-fork SECONDS [ESCAPEE_SECONDS]
                              the same without setsid()
  ignore-term SECONDS [SIGNAL...]
                              ignore SIGTERM (and the extra signals), print "ready",
                              sleep, exit 0
  stop-self [SECONDS]         print "ready", raise(SIGSTOP); once continued sleep
                              SECONDS (default 3600), exit 0
  wait-signal SECONDS         catch INT TERM HUP QUIT USR1 USR2, print "ready"; on a
                              signal print "got SIGxxx" and exit 100+N; exit 3 on timeout
  print-args ARGS...          print each argument on its own line
  print-env NAME...           print the value of each NAME on its own line (an empty
                              line if unset); exit 1 if any is not set
  print-pgid                  print pid=, ppid=, pgid=, sid=, pgid_equals_pid=yes|no,
                              tty_foreground_pgid= (-1 if stdin is not a terminal)
  print-cgroup                print /proc/self/cgroup
  serve-http PORT [--hang] [--exit-after-requests N] [--slow-start SECONDS]
                  [--max-seconds SECONDS]
                              HTTP/1.1 on 127.0.0.1:PORT (0 = any free port);
                              prints "listening PORT", "ready", and "request LINE" per
                              request; GET /health -> 200 "ok", GET /burn -> 200
                              and a thread burning a core for 30 s, else 404; --hang reads
                              requests and never answers; ends after --max-seconds
                              (default 600)
  deny-syscall CALL ERRNO PROGRAM [ARGS...]
                              run PROGRAM under a seccomp filter that fails CALL
                              (pidfd_open, pidfd_send_signal, clone3) with ERRNO
                              (EPERM, ENOSYS), as an old container profile or kernel does
  help                        print this text
)";

struct Mode {
  std::string_view name;
  int (*run)(Args);
};

constexpr Mode kModes[] = {
    {"exit", mode_exit},
    {"signal", mode_signal},
    {"sleep", mode_sleep},
    {"spin", mode_spin},
    {"alloc", mode_alloc},
    {"fork-tree", mode_fork_tree},
    {"fork-bomb", mode_fork_bomb},
    {"setsid-escape", mode_setsid_escape},
    {"double-fork", mode_double_fork},
    {"ignore-term", mode_ignore_term},
    {"stop-self", mode_stop_self},
    {"wait-signal", mode_wait_signal},
    {"print-args", mode_print_args},
    {"print-env", mode_print_env},
    {"print-pgid", mode_print_pgid},
    {"print-cgroup", mode_print_cgroup},
    {"serve-http", mode_serve_http},
    {"deny-syscall", mode_deny_syscall},
};

}  // namespace

void expect_arg_count(std::string_view mode, Args args, size_t min, size_t max) {
  if (args.size() < min || args.size() > max)
    usage_error(std::string(mode) + ": wrong number of arguments");
}

}  // namespace guardian::target

int main(int argc, char** argv) {
  using namespace guardian::target;
  if (argc < 2) {
    complain(kUsage);
    return 2;
  }
  const std::string_view mode = argv[1];
  if (mode == "help" || mode == "--help" || mode == "-h") {
    say(kUsage);
    return 0;
  }
  for (const Mode& candidate : kModes) {
    if (candidate.name == mode) return candidate.run(Args(argv + 2, static_cast<size_t>(argc - 2)));
  }
  usage_error("unknown mode '" + std::string(mode) + "'");
}
