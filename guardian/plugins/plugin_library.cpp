#include "guardian/plugins/plugin_library.hpp"

#include "guardian/config/install_layout.hpp"

#include <algorithm>
#include <cstdlib>
#include <dlfcn.h>
#include <map>
#include <set>
#include <system_error>

#include <fmt/format.h>

namespace guardian::plugins {
namespace {

bool valid_name(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  std::size_t length = 0;
  for (const char* p = name; *p != '\0'; ++p, ++length) {
    const char c = *p;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok || length >= 64) return false;
  }
  return true;
}

std::string text_or_empty(const char* text) { return text == nullptr ? std::string() : std::string(text); }

}  // namespace

std::vector<std::filesystem::path> plugin_search_paths(const SearchOptions& options) {
  std::vector<std::filesystem::path> paths = options.config_paths;
  if (options.use_env_path) {
    if (const char* env = std::getenv("GUARDIAN_PLUGIN_PATH"); env != nullptr) {
      std::string_view rest(env);
      while (!rest.empty()) {
        const auto colon = rest.find(':');
        const auto item = rest.substr(0, colon);
        if (!item.empty()) paths.emplace_back(std::string(item));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
      }
    }
  }
  if (options.use_bundled_dir) paths.push_back(config::bundled_plugin_directory());
  return paths;
}

std::vector<std::filesystem::path> find_plugin_files(const std::vector<std::filesystem::path>& search_paths,
                                                     const std::set<std::string>* only_stems) {
  std::vector<std::filesystem::path> files;
  std::set<std::filesystem::path> seen;
  auto add = [&](const std::filesystem::path& file) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(file, ec);
    if (ec) return;
    if (seen.insert(canonical).second) files.push_back(file);
  };
  for (const auto& path : search_paths) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) {
      add(path);
      continue;
    }
    if (!std::filesystem::is_directory(path, ec)) continue;
    std::vector<std::filesystem::path> in_dir;
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      if (entry.path().extension() != ".so" || !entry.is_regular_file(ec)) continue;
      if (only_stems && only_stems->count(entry.path().stem().string()) == 0) continue;
      in_dir.push_back(entry.path());
    }
    std::sort(in_dir.begin(), in_dir.end());
    for (const auto& file : in_dir) add(file);
  }
  return files;
}

nlohmann::json PluginInfo::to_json() const {
  nlohmann::json j{{"name", name},
                   {"path", path.string()},
                   {"version", version},
                   {"description", description},
                   {"abi", fmt::format("{}.{}", abi_major, abi_minor)},
                   {"config", schema.to_json()},
                   {"usable", usable()}};
  if (!refused.empty()) j["refused"] = refused;
  return j;
}

PluginInfo open_plugin(const std::filesystem::path& path) {
  PluginInfo info;
  info.path = path;
  info.name = path.stem().string();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    info.refused = fmt::format("cannot be loaded: {}; rebuild it against this guardian or remove it from {}",
                               why ? why : "unknown dlopen error", path.parent_path().string());
    return info;
  }
  void* symbol = ::dlsym(handle, GUARDIAN_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    info.refused = fmt::format("is not a guardian plugin (it exports no {}); remove it from {}",
                               GUARDIAN_PLUGIN_ENTRY_SYMBOL, path.parent_path().string());
    return info;
  }
  auto entry = reinterpret_cast<guardian_plugin_entry_fn>(symbol);
  const guardian_plugin* api = nullptr;
  try {
    api = entry(GUARDIAN_PLUGIN_ABI_MAJOR);
  } catch (...) {
    info.refused = "threw an exception from guardian_plugin_entry (a bug in the plugin); report it to its author";
    return info;
  }
  if (api == nullptr) {
    info.refused = fmt::format("does not support guardian's plugin ABI {} (its entry point returned nothing); "
                               "install a version of the plugin built for this guardian",
                               GUARDIAN_PLUGIN_ABI_MAJOR);
    return info;
  }
  info.struct_size = api->struct_size;
  // abi_major sits at the same offset in every ABI; nothing else may be read before it matches.
  if (api->struct_size >= 2 * sizeof(std::uint32_t)) info.abi_major = api->abi_major;
  if (api->struct_size >= 2 * sizeof(std::uint32_t) && api->abi_major != GUARDIAN_PLUGIN_ABI_MAJOR) {
    info.refused = fmt::format("was built for plugin ABI {} but this guardian speaks ABI {}; install a version of "
                               "the plugin built for ABI {}",
                               api->abi_major, GUARDIAN_PLUGIN_ABI_MAJOR, GUARDIAN_PLUGIN_ABI_MAJOR);
    return info;
  }
  if (api->struct_size < GUARDIAN_PLUGIN_V1_SIZE) {
    info.refused = fmt::format(
        "declares a plugin struct of {} bytes, smaller than the {} bytes of ABI {} (plugin ABI {}, guardian ABI {}); "
        "rebuild it against this guardian's plugin.h",
        api->struct_size, GUARDIAN_PLUGIN_V1_SIZE, GUARDIAN_PLUGIN_ABI_MAJOR, info.abi_major,
        GUARDIAN_PLUGIN_ABI_MAJOR);
    return info;
  }
  info.abi_minor = api->abi_minor;
  if (valid_name(api->name)) info.name = api->name;
  info.version = text_or_empty(api->version);
  info.description = text_or_empty(api->description);
  if (!valid_name(api->name)) {
    info.refused = "has no valid name (expected 1-64 characters of a-z, 0-9, '_', '-'); report it to its author";
    return info;
  }
  if (api->create == nullptr || api->on_event == nullptr || api->destroy == nullptr || api->free_str == nullptr) {
    info.refused = "leaves create/on_event/destroy/free_str unset; report it to its author";
    return info;
  }
  std::string error;
  if (!parse_config_schema(text_or_empty(api->config_schema_json), info.schema, error)) {
    info.refused = error + "; report it to its author";
    return info;
  }
  info.api = api;
  return info;
}

std::vector<PluginInfo> discover_plugins(const SearchOptions& options) {
  std::vector<PluginInfo> found;
  std::map<std::string, std::filesystem::path> by_name;
  const auto* only_stems = options.only_stems ? &*options.only_stems : nullptr;
  for (const auto& file : find_plugin_files(plugin_search_paths(options), only_stems)) {
    PluginInfo info = open_plugin(file);
    if (info.usable()) {
      auto [it, inserted] = by_name.emplace(info.name, info.path);
      if (!inserted) {
        info.refused = fmt::format("is shadowed by {}, found earlier in the search path", it->second.string());
        info.api = nullptr;
      }
    }
    found.push_back(std::move(info));
  }
  return found;
}

}  // namespace guardian::plugins
