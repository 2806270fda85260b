// The plugin host process: guardian's own executable re-executed in a hidden role
// (`guardian __plugin-host <fd> <supervisor pid>`, dispatched first thing in cli::main, before
// any thread exists). It drops to the run's user, caps its own memory, dlopens the plugins
// and runs their workers (PluginRunner), and talks to the supervisor only through the socket
// on <fd>: events in, call announcements, log lines and queries out (plugin_channel.hpp).
#pragma once

#include <sys/types.h>

#include <string_view>

namespace guardian::plugins {

inline constexpr std::string_view plugin_host_role = "__plugin-host";

// Runs the host until the supervisor says stop or goes away; returns the exit code.
int run_plugin_host_process(int socket_fd, pid_t supervisor_pid);

}  // namespace guardian::plugins
