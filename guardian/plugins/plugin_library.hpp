// PluginLibrary: finding plugin .so files and opening one (dlopen, entry point, ABI and
// struct-size checks, schema parse) without creating an instance.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "guardian/plugin.h"
#include "guardian/plugins/config_schema.hpp"

namespace guardian::plugins {

// Where plugins are looked for, in priority order (a name found earlier shadows later ones).
struct SearchOptions {
  std::vector<std::filesystem::path> config_paths;  // from the config: directories or .so files
  bool use_env_path = true;                         // GUARDIAN_PLUGIN_PATH (':'-separated)
  // guardian's own plugins: next to the executable, else this build's, else the configured
  // install's (config::bundled_plugin_directory()).
  bool use_bundled_dir = true;
  // When set, files found in directories are opened only if their stem is in it (files
  // listed by path are always opened).
  std::optional<std::set<std::string>> only_stems;
};

std::vector<std::filesystem::path> plugin_search_paths(const SearchOptions& options);

// Every *.so in the given directories (sorted by name within a directory) and every
// listed .so file; missing directories are skipped. Duplicated files appear once.
// With only_stems, a directory's files are skipped unless their stem is in it.
std::vector<std::filesystem::path> find_plugin_files(const std::vector<std::filesystem::path>& search_paths,
                                                     const std::set<std::string>* only_stems = nullptr);

// What one .so turned out to be.
struct PluginInfo {
  std::filesystem::path path;
  std::string name;  // from the plugin; the file stem when it could not be read
  std::string version;
  std::string description;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::uint32_t struct_size = 0;
  ConfigSchema schema;
  const guardian_plugin* api = nullptr;  // valid for the life of the process (RTLD_NODELETE)
  std::string refused;                   // non-empty: why it cannot be used, and what to do
  bool usable() const { return refused.empty() && api != nullptr; }
  nlohmann::json to_json() const;
};

// dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE), call guardian_plugin_entry, check it.
PluginInfo open_plugin(const std::filesystem::path& path);

// open_plugin on every file, in order; a later plugin with an already seen name is
// refused as shadowed.
std::vector<PluginInfo> discover_plugins(const SearchOptions& options);

}  // namespace guardian::plugins
