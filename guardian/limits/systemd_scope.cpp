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

// The unified-hierarchy cgroup of a process ("self" or a pid); empty once it has exited.
std::string cgroup_of(const std::string& process) {
  auto text = CgroupFs("/proc/" + process).read("", "cgroup");
  return text ? parse_unified_cgroup_path(*text).value_or("") : std::string();
}

std::string own_cgroup() { return cgroup_of("self"); }

// Every process handed to systemd is in the scope (or gone). Not only guardian itself: in a
// login session the user manager moves each pid through the system manager, one by one, and
// guardian enabling the scope's controllers (its leaf, subtree_control) while one is still on
// its way makes that move fail with EBUSY (no processes in an inner cgroup) and the whole
// scope fail with result 'resources': the login-session race of the systemd VM.
bool all_moved(const std::vector<pid_t>& pids, const std::string& unit) {
  for (pid_t pid : pids) {
    const std::string now = cgroup_of(std::to_string(pid));
    if (!now.empty() && !now.ends_with("/" + unit)) return false;
  }
  return true;
}

}  // namespace

ScopePlacement scope_placement(const std::string& own_dir, const std::string& manager_dir) {
  ScopePlacement placement;
  if (manager_dir.empty() || !own_dir.starts_with(manager_dir + "/")) return placement;
  std::vector<std::string> parts;
  std::string rest = own_dir.substr(manager_dir.size() + 1);
  for (std::size_t start = 0; start <= rest.size();) {
    auto slash = rest.find('/', start);
    if (slash == std::string::npos) slash = rest.size();
    parts.push_back(rest.substr(start, slash - start));
    start = slash + 1;
  }
  for (std::size_t i = parts.size(); i-- > 0;) {
    if (!parts[i].ends_with(".slice")) continue;
    placement.slice = parts[i];
    if (i + 1 < parts.size() && (parts[i + 1].ends_with(".service") || parts[i + 1].ends_with(".scope")))
      placement.part_of = parts[i + 1];
    break;
  }
  return placement;
}

std::vector<std::string> transient_scope_command(const std::string& unit, const std::vector<pid_t>& pids,
                                                 const ScopePlacement& placement) {
  const int properties = 2 + !placement.slice.empty() + !placement.part_of.empty();
  std::vector<std::string> argv{"busctl", "--user", "--quiet", "call", "org.freedesktop.systemd1",
                                "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                "StartTransientUnit", "ssa(sv)a(sa(sv))", unit, "fail", std::to_string(properties),
                                "PIDs", "au", std::to_string(pids.size())};
  for (pid_t pid : pids) argv.push_back(std::to_string(pid));
  for (const char* rest : {"Delegate", "b", "true"}) argv.emplace_back(rest);
  if (!placement.slice.empty()) argv.insert(argv.end(), {"Slice", "s", placement.slice});
  if (!placement.part_of.empty()) argv.insert(argv.end(), {"PartOf", "as", "1", placement.part_of});
  argv.emplace_back("0");  // no auxiliary units
  return argv;
}

Status move_into_delegated_scope(const std::string& unit, const std::vector<pid_t>& pids,
                                 const ScopePlacement& placement, std::chrono::milliseconds timeout) {
  auto argv = transient_scope_command(unit, pids, placement);
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const std::string before = own_cgroup();
  // busctl's own complaint (no bus, a refused property) goes into guardian's one line.
  int complaint[2] = {-1, -1};
  if (::pipe2(complaint, O_CLOEXEC) != 0) complaint[0] = complaint[1] = -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (complaint[1] >= 0) posix_spawn_file_actions_adddup2(&actions, complaint[1], STDERR_FILENO);
  else posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child = -1;
  int err = ::posix_spawnp(&child, "busctl", &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (complaint[1] >= 0) ::close(complaint[1]);
  std::string said;
  if (err == 0 && complaint[0] >= 0) {
    char buffer[512];
    ssize_t n;
    while ((n = ::read(complaint[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0 && said.size() < 2048) said.append(buffer, static_cast<std::size_t>(n));
    while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  }
  if (complaint[0] >= 0) ::close(complaint[0]);
  auto failed = [&](int code, const std::string& why) {
    return Error{std::error_code(code, std::system_category()),
                 fmt::format("the systemd user manager gave no delegated scope {}{}: {}", unit,
                             placement.slice.empty() ? "" : " in " + placement.slice, why)};
  };
  if (err != 0) return failed(err, std::error_code(err, std::system_category()).message());
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return failed(EPERM, said.empty() ? std::string("busctl failed") : "busctl: " + said);
  // The job that moves us runs asynchronously in systemd: wait, bounded, until it moved every
  // process it was given (see all_moved) before guardian touches the scope's cgroup.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = own_cgroup();
    if (now != before && now.ends_with("/" + unit) && all_moved(pids, unit)) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return failed(ETIMEDOUT, fmt::format("guardian and its helpers were not all moved into {} within {} ms", unit,
                                       timeout.count()));
}

}  // namespace guardian::limits
