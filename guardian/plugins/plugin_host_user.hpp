#pragma once
// Whom the plugin host process runs as. A root supervisor never hands plugin code (network
// servers, TLS clients, third-party libraries) its privileges: the host becomes the user
// `plugins.user` names or, without it, the user who ran sudo (SUDO_UID/SUDO_GID). A
// supervisor that is not root has nothing to give away: the host runs as guardian does.
#include <sys/types.h>

#include <optional>
#include <string>

namespace guardian::plugins {

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group; the host keeps no supplementary group
};

// SUDO_UID/SUDO_GID when this process is root and they name another user.
std::optional<RunAs> run_as_from_environment();

// The account `name` names on this system (a user name, or a numeric uid it knows).
std::optional<RunAs> find_user(const std::string& name);

// The plugin host's user: `configured` (plugins.user, empty when unset) first, then sudo's
// user; none unless this process is root. A configured user the system does not know throws
// config::ConfigError naming `origin` (where it was set), root or not: a typo is a typo.
std::optional<RunAs> plugin_host_user(const std::string& configured, const std::string& origin);

}  // namespace guardian::plugins
