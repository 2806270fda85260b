// Modes that end with a chosen status, die of a chosen signal, or load the CPU/RAM.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "modes.hpp"
#include "target_support.hpp"

namespace guardian::target {

int mode_exit(Args args) {
  expect_arg_count("exit", args, 1, 1);
  return static_cast<int>(parse_long(args[0], "exit status") & 0xff);
}

int mode_signal(Args args) {
  expect_arg_count("signal", args, 1, 1);
  const int signal_number = parse_signal(args[0]);
  // Deaths by SIGQUIT/SIGSEGV/... must not write core files into test directories
  // (or hand them to a slow core_pattern pipe): the tests only care about the signal.
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  std::signal(signal_number, SIG_DFL);
  sigset_t only_this;
  sigemptyset(&only_this);
  sigaddset(&only_this, signal_number);
  sigprocmask(SIG_UNBLOCK, &only_this, nullptr);
  raise(signal_number);
  // Signals whose default action is to ignore (SIGCHLD, SIGWINCH, ...) or stop land here.
  complain("guardian-target: still alive after raising " + signal_name(signal_number));
  return 1;
}

int mode_sleep(Args args) {
  expect_arg_count("sleep", args, 1, 1);
  const timespec deadline = deadline_after(parse_seconds(args[0], "SECONDS"));
  say("ready");
  sleep_until(deadline);
  return 0;
}

int mode_spin(Args args) {
  expect_arg_count("spin", args, 2, 2);
  const long threads = parse_long(args[0], "THREADS");
  if (threads < 1 || threads > 1024) usage_error("spin: THREADS must be 1..1024");
  const timespec deadline = deadline_after(parse_seconds(args[1], "SECONDS"));
  std::atomic<unsigned long> sink{0};  // keeps the loop from being optimised away
  auto busy = [&] {
    unsigned long local = 0;
    while (!deadline_passed(deadline)) {
      for (int i = 0; i < 100000; ++i) local = local * 6364136223846793005UL + 1;
    }
    sink += local;
  };
  std::vector<std::thread> workers;
  for (long i = 1; i < threads; ++i) workers.emplace_back(busy);
  say("ready");
  busy();
  for (auto& worker : workers) worker.join();
  return sink.load() == 1 ? 0 : 0;
}

int mode_alloc(Args args) {
  expect_arg_count("alloc", args, 2, 4);
  const long megabytes = parse_long(args[0], "MB");
  if (megabytes < 0) usage_error("alloc: MB must be >= 0");
  const timespec deadline = deadline_after(parse_seconds(args[1], "HOLD_SECONDS"));
  // Optional pace: STEP_MB MiB every STEP_SECONDS, as a leaking test grows (default: at once).
  const long step_megabytes = args.size() > 2 ? parse_long(args[2], "STEP_MB") : megabytes;
  if (args.size() == 3) usage_error("alloc: STEP_MB needs STEP_SECONDS");
  if (args.size() > 2 && step_megabytes < 1) usage_error("alloc: STEP_MB must be >= 1");
  const double step_seconds = args.size() > 3 ? parse_seconds(args[3], "STEP_SECONDS") : 0;
  constexpr size_t kChunkBytes = 1024 * 1024;
  const long page_bytes = sysconf(_SC_PAGESIZE);
  std::vector<std::unique_ptr<char[]>> chunks;
  chunks.reserve(static_cast<size_t>(megabytes));
  for (long mb = 1; mb <= megabytes; ++mb) {
    std::unique_ptr<char[]> chunk(new (std::nothrow) char[kChunkBytes]);
    if (!chunk) {
      complain("guardian-target: alloc: out of memory after " + std::to_string(mb - 1) + " MB");
      return 4;
    }
    // Touch every page so the memory is really resident, not just reserved.
    for (size_t offset = 0; offset < kChunkBytes; offset += static_cast<size_t>(page_bytes))
      chunk[offset] = static_cast<char>(mb);
    chunks.push_back(std::move(chunk));
    if (mb % 64 == 0) say("allocated " + std::to_string(mb) + " MB");
    if (step_seconds > 0 && mb % step_megabytes == 0 && mb < megabytes) sleep_until(deadline_after(step_seconds));
  }
  if (megabytes % 64 != 0) say("allocated " + std::to_string(megabytes) + " MB");
  say("ready");
  sleep_until(deadline);
  return 0;
}

}  // namespace guardian::target
