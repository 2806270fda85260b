#include "guardian/plugins/plugin_host_user.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "guardian/config/config.hpp"

namespace guardian::plugins {

std::optional<RunAs> run_as_from_environment() {
  if (::geteuid() != 0) return std::nullopt;
  const char* uid = std::getenv("SUDO_UID");
  const char* gid = std::getenv("SUDO_GID");
  if (uid == nullptr || gid == nullptr) return std::nullopt;
  char* end = nullptr;
  const auto u = std::strtoul(uid, &end, 10);
  if (end == uid || *end != '\0' || u == 0) return std::nullopt;
  const auto g = std::strtoul(gid, &end, 10);
  if (end == gid || *end != '\0') return std::nullopt;
  return RunAs{static_cast<uid_t>(u), static_cast<gid_t>(g)};
}

std::optional<RunAs> find_user(const std::string& name) {
  if (name.empty()) return std::nullopt;
  // The _r variants: the session may already run threads (a plugin's query, the monitor).
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
    return RunAs{found->pw_uid, found->pw_gid};
  if (name.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  errno = 0;
  const auto uid = std::strtoul(name.c_str(), nullptr, 10);
  if (errno != 0 || uid > static_cast<unsigned long>(static_cast<uid_t>(-1) - 1)) return std::nullopt;
  if (::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
    return RunAs{found->pw_uid, found->pw_gid};
  return std::nullopt;
}

std::optional<RunAs> plugin_host_user(const std::string& configured, const std::string& origin) {
  if (configured.empty()) return run_as_from_environment();
  auto user = find_user(configured);
  if (!user)
    throw config::ConfigError(fmt::format(
        "{}: plugins.user: there is no user '{}' on this system; name an existing one (`getent passwd` "
        "lists them) or remove the setting.",
        origin, configured));
  if (::geteuid() != 0) return std::nullopt;  // nothing to drop: the host runs as guardian does
  return user;
}

}  // namespace guardian::plugins
