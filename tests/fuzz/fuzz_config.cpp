// The configuration loader on arbitrary input: the bytes as guardian.toml, as pyproject.toml
// ([tool.guardian]), and each line as the value of a GUARDIAN_* variable and of a flag.
// Anything may be refused with ConfigError; nothing may crash, hang or misbehave.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "guardian/config/config.hpp"

using namespace guardian::config;

namespace {

template <typename Step>
void refused_or_accepted(Step step) {
  try {
    step();
  } catch (const ConfigError&) {
  }
}

std::vector<std::string_view> lines_of(std::string_view text, std::size_t most) {
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < most) {
    auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool pyproject : {false, true}) {
    refused_or_accepted([&] {
      Config config = Config::defaults();
      config.add_file_layer(text, pyproject ? "pyproject.toml" : "guardian.toml", pyproject);
      // What the run reads back from what was accepted.
      for (const auto& [key, entry] : config.entries()) {
        (void)config.duration(key);
        (void)config.duration_list(key);
      }
      (void)config.plugin_tables().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    });
  }
  // Each line as the value of the schema's variables and flags, in turn.
  std::vector<const KeySpec*> with_env, with_flag;
  for (const auto& spec : schema()) {
    if (!spec.env.empty()) with_env.push_back(&spec);
    if (!spec.flag.empty()) with_flag.push_back(&spec);
  }
  std::size_t index = 0;
  for (auto line : lines_of(text, 16)) {
    const KeySpec* env = with_env[index % with_env.size()];
    const KeySpec* flag = with_flag[index % with_flag.size()];
    ++index;
    refused_or_accepted([&] {
      Config config = Config::defaults();
      config.add_environment_layer({{env->env, std::string(line)}});
      config.add_flag_layer({{flag->flag, std::string(line)}});
      (void)config.duration(env->key);
      (void)config.duration_list(flag->key);
    });
  }
  return 0;
}
