#pragma once
// Asking the user's systemd manager for a delegated cgroup: a transient scope with
// Delegate=yes that takes guardian (and its children) in, so a non-root guardian with no
// writable cgroup (or one missing a controller) still gets kernel-enforced ceilings. The scope
// goes into the slice guardian was started in and is PartOf the unit it was started in, so the
// caller's slice limits still apply and stopping the calling unit still stops the run.
// Uses busctl (part of systemd).
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "guardian/limits/result.hpp"

namespace guardian::limits {

/// Where the scope goes: `slice` (empty: the manager's default, app.slice) and the unit it is
/// PartOf (empty: none), both names as the user manager knows them.
struct ScopePlacement {
  std::string slice;
  std::string part_of;
};

/// The placement for a guardian in cgroup `own_dir` under the user manager's cgroup
/// `manager_dir` (both relative to the cgroup2 mount): the innermost slice between them and
/// the unit directly in it ("…/user@1000.service/app.slice/foo.service" → app.slice, foo.service).
/// Nothing when guardian does not run under that manager (a login session's scope).
ScopePlacement scope_placement(const std::string& own_dir, const std::string& manager_dir);

/// The busctl command line that starts scope `unit` (e.g. "guardian-123.scope") around `pids`.
std::vector<std::string> transient_scope_command(const std::string& unit, const std::vector<pid_t>& pids,
                                                 const ScopePlacement& placement = {});

/// Starts the scope and waits (bounded) until this process and every other pid given has moved
/// into it (or exited).
Status move_into_delegated_scope(const std::string& unit, const std::vector<pid_t>& pids,
                                 const ScopePlacement& placement,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace guardian::limits
