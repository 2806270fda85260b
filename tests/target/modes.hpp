// The modes of guardian-target: each takes the arguments after the mode name and
// returns the process exit status (or never returns, for modes that die of a signal).
#pragma once

#include <span>
#include <string_view>

namespace guardian::target {

using Args = std::span<char* const>;

// modes_basic.cpp: exit codes, signals, sleeping, CPU and memory load.
int mode_exit(Args args);
int mode_signal(Args args);
int mode_sleep(Args args);
int mode_spin(Args args);
int mode_alloc(Args args);

// modes_print.cpp: what the supervised command sees of its environment.
int mode_print_args(Args args);
int mode_print_env(Args args);
int mode_print_pgid(Args args);
int mode_print_cgroup(Args args);

// modes_tree.cpp: process trees and processes that try to escape their supervisor.
int mode_fork_tree(Args args);
int mode_fork_bomb(Args args);
int mode_setsid_escape(Args args);
int mode_double_fork(Args args);

// modes_signals.cpp: reactions to signals sent by the supervisor.
int mode_ignore_term(Args args);
int mode_stop_self(Args args);
int mode_wait_signal(Args args);

// serve_http.cpp: a tiny HTTP/1.1 server for health-probe tests.
int mode_serve_http(Args args);

// modes_sandbox.cpp: a program run under a seccomp filter that fails one system call.
int mode_deny_syscall(Args args);

// Checks that args has between min and max entries, else usage_error naming the mode.
void expect_arg_count(std::string_view mode, Args args, size_t min, size_t max);

}  // namespace guardian::target
