#include "guardian/limits/systemd_scope.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <thread>

#include "guardian/limits/cgroup_formats.hpp"
#include "guardian/limits/cgroup_fs.hpp"

extern char** environ;

namespace guardian::limits {
namespace {

std::string own_cgroup() {
  auto text = CgroupFs("/proc/self").read("", "cgroup");
  return text ? parse_unified_cgroup_path(*text).value_or("") : std::string();
}

}  // namespace

std::vector<std::string> transient_scope_command(const std::string& unit, const std::vector<pid_t>& pids) {
  std::vector<std::string> argv{"busctl", "--user", "--quiet", "call", "org.freedesktop.systemd1",
                                "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                "StartTransientUnit", "ssa(sv)a(sa(sv))", unit, "fail", "2", "PIDs", "au",
                                std::to_string(pids.size())};
  for (pid_t pid : pids) argv.push_back(std::to_string(pid));
  for (const char* rest : {"Delegate", "b", "true", "0"}) argv.emplace_back(rest);
  return argv;
}

Status move_into_delegated_scope(const std::string& unit, const std::vector<pid_t>& pids,
                                 std::chrono::milliseconds timeout) {
  auto argv = transient_scope_command(unit, pids);
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const std::string before = own_cgroup();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child = -1;
  int err = ::posix_spawnp(&child, "busctl", &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  auto failed = [&](int code, const std::string& why) {
    return Error{std::error_code(code, std::system_category()),
                 fmt::format("asking systemd for a delegated scope ({}): {}", fmt::join(argv, " "), why)};
  };
  if (err != 0) return failed(err, std::error_code(err, std::system_category()).message());
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return failed(EPERM, "busctl failed");
  // The job that moves us runs asynchronously in systemd: wait, bounded, until it did.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = own_cgroup();
    if (now != before && now.ends_with("/" + unit)) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return failed(ETIMEDOUT, fmt::format("guardian was not moved into {} within {} ms", unit, timeout.count()));
}

}  // namespace guardian::limits
