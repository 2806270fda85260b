/* minimal: the smallest useful guardian plugin, in plain C. It prints one line per
 * critical alert to stderr (or to the file named in its config) and shows the whole
 * contract: entry point, ABI version, config schema, create/on_event/destroy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <guardian/plugin.h>

typedef struct minimal {
  const guardian_host* host;
  FILE* out;
} minimal;

static char* copy(const char* text) {
  char* out = malloc(strlen(text) + 1);
  if (out) strcpy(out, text);
  return out;
}

/* Reads "key":"value" from the config JSON (a real plugin would use a JSON library). */
static int config_string(const char* json, const char* key, char* value, size_t size) {
  char needle[64];
  snprintf(needle, sizeof needle, "\"%s\":\"", key);
  const char* at = strstr(json, needle);
  if (!at) return 0;
  at += strlen(needle);
  const char* end = strchr(at, '"');
  if (!end || (size_t)(end - at) >= size) return 0;
  memcpy(value, at, (size_t)(end - at));
  value[end - at] = '\0';
  return 1;
}

static void* minimal_create(const guardian_host* host, const char* config_json, char** error) {
  minimal* self = calloc(1, sizeof *self);
  char path[4096];
  if (!self) return NULL;
  self->host = host;
  self->out = stderr;
  if (config_string(config_json, "file", path, sizeof path) && path[0] != '\0') {
    self->out = fopen(path, "a");
    if (!self->out) {
      *error = copy("cannot open the file given as [plugins.minimal] file");
      free(self);
      return NULL;
    }
  }
  host->log(host->host, GUARDIAN_LOG_INFO, "minimal plugin ready");
  return self;
}

static int minimal_on_event(void* self_ptr, const char* event_json, char** error) {
  minimal* self = self_ptr;
  (void)error;
  if (strstr(event_json, "\"kind\":\"alert\"") && strstr(event_json, "\"severity\":\"critical\"")) {
    fprintf(self->out, "critical alert: %s\n", event_json);
    fflush(self->out);
  }
  return GUARDIAN_PLUGIN_OK;
}

static void minimal_destroy(void* self_ptr) {
  minimal* self = self_ptr;
  if (self->out && self->out != stderr) fclose(self->out);
  free(self);
}

static void minimal_free_str(char* text) { free(text); }

static const guardian_plugin description = {
    sizeof(guardian_plugin),
    GUARDIAN_PLUGIN_ABI_MAJOR,
    GUARDIAN_PLUGIN_ABI_MINOR,
    0,
    "minimal",
    "0.1.0",
    "prints critical alerts (example plugin built with find_package(guardian))",
    "[{\"key\": \"file\", \"type\": \"string\", \"default\": \"\","
    " \"description\": \"append alerts to this file instead of stderr\"}]",
    minimal_create,
    minimal_on_event,
    minimal_destroy,
    minimal_free_str,
};

GUARDIAN_EXPORT const guardian_plugin* guardian_plugin_entry(uint32_t host_abi_major) {
  return host_abi_major == GUARDIAN_PLUGIN_ABI_MAJOR ? &description : NULL;
}
