#pragma once
// What the sentinel does (sentinel.hpp says why it exists), in whichever process runs it: the
// small `guardian-sentinel` executable (sentinel_main.cpp), or a fork of guardian where that
// executable is missing. Orders come one per line on a pipe: "group <pgid>", "cgroup
// <cgroup.kill path>", "undo <kind> <path>\t<value>", and "done" (a normal end: exit
// quietly). At EOF guardian is gone: kill every group, cgroup and marked process, then undo.
#include <optional>
#include <string>
#include <string_view>

namespace guardian::process {

/// One step of what the sentinel undoes after killing a run's cgroups, so a SIGKILLed guardian
/// leaves the hierarchy as it found it (its parent can take processes again).
struct UndoStep {
  enum class Kind {
    remove_tree,  // rmdir `path` and every cgroup below it, bottom-up, retried while its processes die
    write,        // write `value` to the file `path` (e.g. "-cpu -memory" to cgroup.subtree_control)
    move_self,    // write the sentinel's own pid to the cgroup.procs file `path`
  };
  Kind kind = Kind::remove_tree;
  std::string path;
  std::string value;
};

/// "undo <kind> <path>\t<value>" <-> UndoStep.
std::string encode(const UndoStep& step);
std::optional<UndoStep> decode(std::string_view line);

/// The sentinel's whole life: reads orders from `read_fd` (moved to fd 3; every other
/// descriptor above 2 is closed), never returns.
[[noreturn]] void run_sentinel(int read_fd, const std::string& marker_entry);

}  // namespace guardian::process
