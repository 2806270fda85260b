// Test plugins that take their process down on their first event, the ways a real plugin
// can: a bad pointer (SIGSEGV), abort() (SIGABRT), an allocation without bound (until the
// plugin host's memory limit makes malloc fail, and the NULL is written to). CRASH_MODE picks.
// Two more make a crash that the last call announced would misname: crash_late aborts 1.5 s
// into its first call, while busy_later has started a call (its second) that never returns.
// slow_open does not crash: named jsonfile, it takes 3 s to be opened (dlopen runs its
// constructor), standing in for a plugin host that is slow to start (a loaded machine, ASan).
#include <chrono>
#include <csignal>
#include <thread>
#include <cstdlib>
#include <cstring>

#include "guardian/plugin.h"

#define CRASH_SEGV 1
#define CRASH_ABORT 2
#define CRASH_ALLOC 3
#define CRASH_LATE 4
#define BUSY_LATER 5
#define SLOW_OPEN 6

namespace {

int instance_marker = 0;

void* create(const guardian_host*, const char*, char**) { return &instance_marker; }

// A volatile write: the compiler keeps it.
[[maybe_unused]] void write_through(char* pointer) { *static_cast<volatile char*>(pointer) = 1; }

char* volatile bad_pointer = nullptr;

int on_event(void*, const char*, char**) {
#if CRASH_MODE == CRASH_SEGV
  write_through(bad_pointer);
#elif CRASH_MODE == CRASH_ABORT
  std::abort();
#elif CRASH_MODE == CRASH_LATE
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::abort();
#elif CRASH_MODE == SLOW_OPEN
  // Quiet: its events are alerts it ignores.
#elif CRASH_MODE == BUSY_LATER
  static int events = 0;  // one worker thread per plugin calls this
  if (++events >= 2)
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
#else
  for (;;) {  // 64 MiB at a time, its first page used, unchecked: NULL once malloc gives up
    char* block = static_cast<char*>(std::malloc(64u << 20));
    std::memset(block, 1, 4096);
    write_through(block);
  }
#endif
  return GUARDIAN_PLUGIN_OK;
}

#if CRASH_MODE == SLOW_OPEN
[[gnu::constructor]] void open_slowly() { std::this_thread::sleep_for(std::chrono::seconds(3)); }
#endif

void destroy(void*) {}
void free_str(char* text) { std::free(text); }

#define STRINGIFY2(x) #x
#define STRINGIFY(x) STRINGIFY2(x)

const guardian_plugin plugin_struct = {
    sizeof(guardian_plugin), GUARDIAN_PLUGIN_ABI_MAJOR, GUARDIAN_PLUGIN_ABI_MINOR, 0,
    STRINGIFY(CRASH_NAME), "1.0.0", "crashes the plugin host on its first event (a test plugin)", "[]",
    &create, &on_event, &destroy, &free_str};

}  // namespace

GUARDIAN_EXPORT const guardian_plugin* guardian_plugin_entry(uint32_t host_abi_major) {
  return host_abi_major == GUARDIAN_PLUGIN_ABI_MAJOR ? &plugin_struct : nullptr;
}
