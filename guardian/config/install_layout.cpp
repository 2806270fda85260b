#include "guardian/config/install_layout.hpp"

#include "guardian/build_paths.hpp"

#include <unistd.h>

#include <system_error>

namespace guardian::config {
namespace fs = std::filesystem;

fs::path executable_path() {
  std::error_code error;
  fs::path path = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : path;
}

fs::path executable_prefix() {
  fs::path exe = executable_path();
  if (exe.empty()) return {};
  fs::path prefix = exe.parent_path();
  // Strip one level per component of the bin directory ("bin" → one level up).
  for (const auto& component : fs::path(GUARDIAN_INSTALL_BINDIR)) {
    if (component.empty() || component == ".") continue;
    prefix = prefix.parent_path();
  }
  return prefix;
}

namespace {

// Next to the executable first; the build's and the configured install's after.
std::vector<fs::path> candidates(const fs::path& relative_to_prefix, const fs::path& in_build,
                                 const fs::path& configured) {
  std::vector<fs::path> paths;
  if (fs::path prefix = executable_prefix(); !prefix.empty()) paths.push_back(prefix / relative_to_prefix);
  paths.push_back(in_build);
  paths.push_back(configured);
  return paths;
}

}  // namespace

std::vector<fs::path> bundled_plugin_candidates() {
  return candidates(GUARDIAN_PLUGIN_INSTALL_RELATIVE_DIR, GUARDIAN_PLUGIN_BUILD_DIR,
                    fs::path(GUARDIAN_INSTALL_PREFIX) / GUARDIAN_PLUGIN_INSTALL_RELATIVE_DIR);
}

fs::path bundled_plugin_directory() {
  const auto paths = bundled_plugin_candidates();
  for (const auto& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) return path;
  }
  return paths.front();
}

std::string sentinel_executable() {
  const fs::path prefix = executable_prefix();
  if (prefix.empty()) return {};
  const fs::path program = prefix / GUARDIAN_LIBEXEC_INSTALL_RELATIVE_DIR / "guardian-sentinel";
  return ::access(program.c_str(), X_OK) == 0 ? program.string() : std::string();
}

std::vector<fs::path> pytest_adapter_candidates() {
  const fs::path adapters(GUARDIAN_ADAPTERS_INSTALL_RELATIVE_DIR);
  return candidates(adapters / "pytest", fs::path(GUARDIAN_ADAPTERS_SOURCE_DIR) / "pytest",
                    fs::path(GUARDIAN_INSTALL_PREFIX) / adapters / "pytest");
}

std::optional<fs::path> pytest_adapter_directory() {
  for (const auto& path : pytest_adapter_candidates()) {
    std::error_code error;
    if (fs::is_regular_file(path / "guardian_pytest.py", error)) return path;
  }
  return std::nullopt;
}

}  // namespace guardian::config
