#pragma once
// Asking the user's systemd manager for a delegated cgroup: a transient scope with
// Delegate=yes that takes guardian (and its children) in, so a non-root guardian with no
// writable cgroup still gets kernel-enforced ceilings. Uses busctl (part of systemd).
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "guardian/limits/result.hpp"

namespace guardian::limits {

/// The busctl command line that starts scope `unit` (e.g. "guardian-123.scope") around `pids`.
std::vector<std::string> transient_scope_command(const std::string& unit, const std::vector<pid_t>& pids);

/// Starts the scope and waits (bounded) until this process has moved into it.
Status move_into_delegated_scope(const std::string& unit, const std::vector<pid_t>& pids,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace guardian::limits
