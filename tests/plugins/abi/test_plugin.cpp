// One source, several misbehaving test plugins (TEST_PLUGIN_MODE picks which), to prove
// the host survives them: wrong ABI major, short struct, throwing, blocking, garbage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "guardian/plugin.h"

#define MODE_RECORDER 1
#define MODE_WRONG_MAJOR 2
#define MODE_SHORT_STRUCT 3
#define MODE_THROWS 4
#define MODE_BLOCKS 5
#define MODE_GARBAGE 6
#define MODE_BAD_SCHEMA 7
#define MODE_NO_ENTRY 8

namespace {

[[maybe_unused]] char* dup(const char* text) {
  char* out = static_cast<char*>(std::malloc(std::strlen(text) + 1));
  std::strcpy(out, text);
  return out;
}

// Tiny "key":"value" reader so the test plugins need no JSON library.
[[maybe_unused]] std::string config_string(const char* json, const char* key) {
  const std::string needle = std::string("\"") + key + "\":\"";
  const char* at = std::strstr(json, needle.c_str());
  if (at == nullptr) return {};
  at += needle.size();
  const char* end = std::strchr(at, '"');
  return end == nullptr ? std::string() : std::string(at, end);
}

struct Instance {
  const guardian_host* host;
  std::FILE* file = nullptr;
};

void* create(const guardian_host* host, const char* config_json, [[maybe_unused]] char** error) {
  auto* self = new Instance{host};
#if TEST_PLUGIN_MODE == MODE_RECORDER
  const std::string path = config_string(config_json, "file");
  self->file = std::fopen(path.c_str(), "a");
  if (self->file == nullptr) {
    *error = dup(("cannot open " + path).c_str());
    delete self;
    return nullptr;
  }
  if (config_string(config_json, "query") == "yes") {
    char* answer = host->query(host->host, R"({"what":"status"})");
    host->log(host->host, GUARDIAN_LOG_INFO, (std::string("query answered ") + answer).c_str());
    host->free_str(answer);
  }
#elif TEST_PLUGIN_MODE == MODE_BLOCKS
  if (config_string(config_json, "block_in") == "create") {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
#else
  (void)config_json;
  (void)error;
#endif
  return self;
}

int on_event(void* self_ptr, const char* event_json, char** error) {
  auto* self = static_cast<Instance*>(self_ptr);
  (void)self;
  (void)error;
#if TEST_PLUGIN_MODE == MODE_RECORDER
  std::fprintf(self->file, "%s\n", event_json);
  std::fflush(self->file);
  return GUARDIAN_PLUGIN_OK;
#elif TEST_PLUGIN_MODE == MODE_THROWS
  (void)event_json;
  throw std::runtime_error("test plugin throws on purpose");
#elif TEST_PLUGIN_MODE == MODE_BLOCKS
  (void)event_json;
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
#elif TEST_PLUGIN_MODE == MODE_GARBAGE
  (void)event_json;
  *error = dup("\xff\xfe not UTF-8 \xc3");
  return 42;
#else
  (void)event_json;
  return GUARDIAN_PLUGIN_OK;
#endif
}

void destroy(void* self_ptr) {
  auto* self = static_cast<Instance*>(self_ptr);
  if (self->file != nullptr) std::fclose(self->file);
  delete self;
}

void free_str(char* text) { std::free(text); }

#if TEST_PLUGIN_MODE == MODE_RECORDER
#define NAME "recorder"
#elif TEST_PLUGIN_MODE == MODE_WRONG_MAJOR
#define NAME "wrong_major"
#elif TEST_PLUGIN_MODE == MODE_SHORT_STRUCT
#define NAME "short_struct"
#elif TEST_PLUGIN_MODE == MODE_THROWS
#define NAME "throws"
#elif TEST_PLUGIN_MODE == MODE_BLOCKS
#define NAME "blocks"
#elif TEST_PLUGIN_MODE == MODE_GARBAGE
#define NAME "garbage"
#elif TEST_PLUGIN_MODE == MODE_BAD_SCHEMA
#define NAME "bad_schema"
#else
#define NAME "no_entry"
#endif

#if TEST_PLUGIN_MODE == MODE_BAD_SCHEMA
#define SCHEMA "[{\"key\": \"x\", \"type\": \"int\", \"default\": \"not an int\"}"
#elif TEST_PLUGIN_MODE == MODE_RECORDER
#define SCHEMA R"json([{"key":"file","type":"string","required":true,"description":"where events go"}, {"key":"query","type":"string","default":"no","description":"yes: query the host at create"}])json"
#elif TEST_PLUGIN_MODE == MODE_BLOCKS
#define SCHEMA R"json([{"key":"block_in","type":"string","default":"on_event","description":"create or on_event"}])json"
#else
#define SCHEMA "[]"
#endif

const guardian_plugin description{
#if TEST_PLUGIN_MODE == MODE_SHORT_STRUCT
    24,
#else
    sizeof(guardian_plugin),
#endif
#if TEST_PLUGIN_MODE == MODE_WRONG_MAJOR
    GUARDIAN_PLUGIN_ABI_MAJOR + 1,
#else
    GUARDIAN_PLUGIN_ABI_MAJOR,
#endif
    0, 0, NAME, "0.0.1", "test plugin", SCHEMA, &create, &on_event, &destroy, &free_str,
};

}  // namespace

#if TEST_PLUGIN_MODE != MODE_NO_ENTRY
GUARDIAN_EXPORT const guardian_plugin* guardian_plugin_entry(uint32_t) { return &description; }
#else
GUARDIAN_EXPORT const guardian_plugin* some_other_symbol(uint32_t) { return &description; }
#endif
