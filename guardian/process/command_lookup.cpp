#include "guardian/process/command_lookup.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guardian/process/exit_status.hpp"

namespace guardian::process {
namespace {

enum class Access { ok, missing, not_executable, directory };

Access check(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Access::missing;
  if (S_ISDIR(st.st_mode)) return Access::directory;
  if (::access(path.c_str(), X_OK) != 0) return Access::not_executable;
  return Access::ok;
}

LookupFailure not_executable(const std::string& what, Access access) {
  if (access == Access::directory)
    return {exit_code::not_executable,
            fmt::format("cannot run '{}': it is a directory. Name the program inside it.", what)};
  return {exit_code::not_executable,
          fmt::format("cannot run '{}': permission denied (not executable). Make it executable "
                      "with 'chmod +x {}' or run it through its interpreter.", what, what)};
}

}  // namespace

std::variant<std::filesystem::path, LookupFailure> find_program(const std::string& name,
                                                                const std::string& path_variable) {
  if (name.empty())
    return LookupFailure{exit_code::not_found, "the command is empty. Give the program to run after '--'."};
  if (name.find('/') != std::string::npos) {
    auto access = check(name);
    if (access == Access::ok) return std::filesystem::path(name);
    if (access == Access::missing)
      return LookupFailure{exit_code::not_found,
                           fmt::format("command not found: '{}' does not exist. Check the path.", name)};
    return not_executable(name, access);
  }
  std::optional<LookupFailure> first_denied;
  std::string_view rest = path_variable;
  while (true) {
    auto colon = rest.find(':');
    auto dir = rest.substr(0, colon);  // an empty PATH entry means the current directory
    auto candidate = (dir.empty() ? std::filesystem::path(".") : std::filesystem::path(dir)) / name;
    auto access = check(candidate);
    if (access == Access::ok) return candidate;
    if (access != Access::missing && !first_denied) first_denied = not_executable(candidate.string(), access);
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (first_denied) return *first_denied;
  return LookupFailure{exit_code::not_found,
                       fmt::format("command not found: '{}' is not in PATH. Check the spelling, install "
                                   "it, or give its full path.", name)};
}

}  // namespace guardian::process
