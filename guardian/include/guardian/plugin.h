/* guardian/plugin.h — the one header a guardian plugin needs.
 *
 * A plugin is a shared object that exports guardian_plugin_entry(). guardian calls
 * it with its own ABI major; the plugin returns a pointer to a static
 * guardian_plugin describing itself (or NULL if it cannot work with that host).
 *
 * Versioning (obs-studio style): GUARDIAN_PLUGIN_ABI_MAJOR changes only when a
 * field changes meaning or moves. New fields are only ever appended to the
 * structs, and every struct starts with struct_size, so:
 *   - the host refuses a plugin whose abi_major differs from its own, or whose
 *     struct_size is smaller than the ABI-1 layout (GUARDIAN_PLUGIN_V1_SIZE);
 *   - a plugin must check host->struct_size before using a host field that was
 *     appended after the version it was built against.
 *
 * Threading: every call into one plugin instance (create, on_event, destroy)
 * comes from that plugin's own worker thread, one at a time. Host services are
 * thread-safe and may be called from any thread the plugin owns.
 *
 * Errors: no C++ exception may cross these functions. Report errors through the
 * char** out-parameters (allocated by the plugin, released by the host with the
 * plugin's free_str) and the int return codes.
 *
 * Events are JSON objects (UTF-8) with at least:
 *   {"kind": "alert" | "level_changed" | "report" | "run_started" | "run_finished" | ...,
 *    "ts": "2024-05-01T12:00:00.123Z", "run_id": "...", ...payload}
 * An "alert" event carries the alert under "alert": {id, ts, type, severity,
 * title, message, source, subject, dedup_key, context, suppressed_count, ...}.
 * Plugins must ignore kinds and fields they do not know.
 */
#ifndef GUARDIAN_PLUGIN_H
#define GUARDIAN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define GUARDIAN_EXTERN_C extern "C"
#else
#define GUARDIAN_EXTERN_C
#endif

#define GUARDIAN_EXPORT GUARDIAN_EXTERN_C __attribute__((visibility("default")))

#define GUARDIAN_PLUGIN_ABI_MAJOR 1u
#define GUARDIAN_PLUGIN_ABI_MINOR 0u
#define GUARDIAN_PLUGIN_ENTRY_SYMBOL "guardian_plugin_entry"

/* Log levels for guardian_host.log. */
enum guardian_log_level {
  GUARDIAN_LOG_DEBUG = 0,
  GUARDIAN_LOG_INFO = 1,
  GUARDIAN_LOG_WARNING = 2,
  GUARDIAN_LOG_ERROR = 3
};

/* Host services a plugin may call; all thread-safe. Pass `host` as first argument. */
typedef struct guardian_host {
  uint32_t struct_size; /* sizeof(guardian_host) as the host was built */
  uint32_t abi_major;
  void* host;
  /* One line of plugin log; the host prefixes the plugin's name. */
  void (*log)(void* host, int level, const char* msg);
  /* Ask guardian for state. what_json: {"what": "status" | "snapshots" | "alerts" |
   * "active_alerts", ...}. Returns a JSON string (never NULL; {"error": "..."} on
   * failure) to be released with free_str below. */
  char* (*query)(void* host, const char* what_json);
  void (*free_str)(char* str);
} guardian_host;

/* Return codes of on_event. */
#define GUARDIAN_PLUGIN_OK 0
#define GUARDIAN_PLUGIN_ERROR 1

typedef struct guardian_plugin {
  uint32_t struct_size; /* sizeof(guardian_plugin) as the plugin was built */
  uint32_t abi_major;   /* GUARDIAN_PLUGIN_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor;
  uint32_t reserved;
  const char* name;        /* [a-z0-9_-]+, the key of its [plugins.<name>] config table */
  const char* version;     /* the plugin's own version, e.g. "1.2.0" */
  const char* description; /* one line */
  /* The declarative config table, a JSON array that doubles as documentation:
   * [{"key": "port", "type": "int" | "number" | "bool" | "string" | "string_list",
   *   "default": 8765, "description": "...", "required": false}]
   * The host validates the user's config against it (unknown key, wrong type,
   * missing required key are refused) and passes create() the complete object
   * with defaults filled in. */
  const char* config_schema_json;
  /* Returns the instance, or NULL with *error set (plugin-allocated). */
  void* (*create)(const guardian_host* host, const char* config_json, char** error);
  /* Returns GUARDIAN_PLUGIN_OK, or GUARDIAN_PLUGIN_ERROR with *error optionally set. */
  int (*on_event)(void* self, const char* event_json, char** error);
  void (*destroy)(void* self);
  void (*free_str)(char* str); /* releases strings the plugin returned */
} guardian_plugin;

/* Size of the ABI-1 layout: the host refuses anything smaller. */
#define GUARDIAN_PLUGIN_V1_SIZE (offsetof(guardian_plugin, free_str) + sizeof(void (*)(char*)))
#define GUARDIAN_HOST_V1_SIZE (offsetof(guardian_host, free_str) + sizeof(void (*)(char*)))

typedef const guardian_plugin* (*guardian_plugin_entry_fn)(uint32_t host_abi_major);

/* The one symbol a plugin exports. Return NULL if host_abi_major is unsupported. */
GUARDIAN_EXPORT const guardian_plugin* guardian_plugin_entry(uint32_t host_abi_major);

#endif /* GUARDIAN_PLUGIN_H */
