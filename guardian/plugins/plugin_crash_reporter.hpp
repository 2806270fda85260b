#pragma once
// In the plugin host process: which plugin's call a fatal signal (SIGSEGV, SIGABRT, …) hit,
// told to the supervisor by the signal handler itself. Plugins run on worker threads of their
// own, so several may be in a call when one crashes: the last "call" line the supervisor read
// may be another plugin's. Each thread keeps its current call; the handler writes one line
// ("crashed_in <plugin>") to the channel and lets the signal end the process as before.
// A crash the handler cannot run for (SIGKILL, a stack overflow) leaves the supervisor's guess.
#include <string>

namespace guardian::plugins::crash_reporter {

/// Installs the handlers; the line goes to `channel_fd`. Once, before plugins start.
void install(int channel_fd);
/// This thread is now in a call of `plugin` (until leave_call()).
void enter_call(const std::string& plugin);
void leave_call();

}  // namespace guardian::plugins::crash_reporter
