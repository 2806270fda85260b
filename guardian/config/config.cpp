#include "guardian/config/config.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <set>
#include <toml++/toml.h>
#include <unistd.h>

#include "guardian/config/quantity.hpp"
#include "guardian/config/suggest.hpp"
#include "guardian/config/toml_text.hpp"

extern char** environ;

namespace guardian::config {
namespace {

// Every concrete key a user could have meant, for "did you mean".
std::vector<std::string> known_keys(std::string_view typed) {
  std::vector<std::string> keys;
  for (const auto& spec : schema()) {
    std::string key = spec.key;
    // Instantiate "servers.*.command" with the name the user typed ("servers.api.command").
    auto star = key.find('*');
    if (star != std::string::npos) {
      auto segment_start = star;
      std::size_t dots = std::count(key.begin(), key.begin() + static_cast<long>(star), '.');
      std::string_view rest = typed;
      for (std::size_t i = 0; i < dots && rest.find('.') != std::string_view::npos; ++i)
        rest.remove_prefix(rest.find('.') + 1);
      auto name = rest.substr(0, rest.find('.'));
      key.replace(segment_start, 1, name);
    }
    keys.push_back(key);
  }
  return keys;
}

std::string unknown_key_message(const std::string& where, const std::string& key) {
  auto hint = closest_match(key, known_keys(key));
  return fmt::format("{}: unknown setting '{}'{} Run 'guardian config keys' to list every setting.",
                     where, key, hint ? fmt::format(" — did you mean '{}'?", *hint) : ".");
}

std::string scalar_text(const toml::node& node, const std::string& where, const std::string& key) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto b = node.value_exact<bool>()) return *b ? "true" : "false";
  if (auto i = node.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = node.value_exact<double>()) return fmt::format("{}", *d);
  throw ConfigError(fmt::format("{}: '{}' has a value of an unsupported type; use a string, "
                                "number, boolean or list", where, key));
}

nlohmann::json to_json(const toml::node& node) {
  if (auto t = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto&& [k, v] : *t) out[std::string(k.str())] = to_json(v);
    return out;
  }
  if (auto a = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (auto&& v : *a) out.push_back(to_json(v));
    return out;
  }
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto b = node.value_exact<bool>()) return *b;
  if (auto i = node.value_exact<int64_t>()) return *i;
  if (auto d = node.value_exact<double>()) return *d;
  return nullptr;
}

// TOML text to a table, refusing first what toml++ 3.3.0 must not see (toml_text.hpp).
toml::table parse_toml(std::string_view text, const std::string& label) {
  if (auto problem = toml_text_problem(text))
    throw ConfigError(fmt::format("{}:{}:{}: not valid TOML: {}. Fix the file or point --config elsewhere.", label,
                                  problem->line, problem->column, problem->reason));
  try {
    return toml::parse(text, label);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: not valid TOML: {}. Fix the file or point --config elsewhere.", label,
                                  e.source().begin.line, e.source().begin.column, e.description()));
  }
}

}  // namespace

// Reads one TOML table (guardian.toml's root or pyproject's [tool.guardian]) into a Config.
class FileLayer {
 public:
  FileLayer(Config& config, std::string file_label) : config_(config), label_(std::move(file_label)) {}

  void read_table(const toml::table& table, const std::string& prefix) {
    for (auto&& [name, node] : table) {
      std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
      std::string where = fmt::format("{}:{}", label_, node.source().begin.line);
      const KeySpec* spec = find_spec(key);
      if (spec && spec->kind == ValueKind::plugin_table) {
        if (!node.is_table())
          throw ConfigError(fmt::format("{}: '{}' must be a table: [{}] with enabled = true and the "
                                        "plugin's settings", where, key, key));
        config_.plugin_tables_[std::string(name.str())] = to_json(node);
        continue;
      }
      if (auto sub = node.as_table()) {
        // A table where guardian has a setting of its own ([plugins.user]): not a plugin.
        if (spec)
          throw ConfigError(fmt::format("{}: '{}' is one of guardian's settings ({}), not a table; write {} = <value>.", where, key,
                                        describe_kind(*spec), key));
        read_table(*sub, key);
        continue;
      }
      if (!spec) throw ConfigError(unknown_key_message(where, key));
      std::string text;
      if (auto list = node.as_array()) {
        for (auto&& item : *list) {
          if (!text.empty()) text += ",";
          text += scalar_text(item, where, key);
        }
      } else {
        text = scalar_text(node, where, key);
      }
      Origin origin{Origin::Layer::file, where};
      config_.set(key, std::move(text), origin);
    }
  }

 private:
  Config& config_;
  std::string label_;
};

std::string Origin::describe() const {
  switch (layer) {
    case Layer::default_value: return "default";
    case Layer::file: return where;
    case Layer::environment: return "env " + where;
    case Layer::flag: return "flag --" + where;
  }
  return where;
}

void Config::set(const std::string& key, std::string text, Origin origin) {
  const KeySpec* spec = find_spec(key);
  if (!spec) throw ConfigError(unknown_key_message(origin.describe(), key));
  if (auto error = validation_error(*spec, text)) {
    std::string hint;
    if (spec->kind == ValueKind::choice)
      if (auto close = closest_match(text, spec->choices)) hint = fmt::format(" — did you mean '{}'?", *close);
    throw ConfigError(fmt::format("{}: {}: {}{}.", origin.describe(), key, *error, hint));
  }
  entries_[key] = Entry{std::move(text), std::move(origin)};
}

Config Config::defaults() {
  Config config;
  for (const auto& spec : schema())
    if (!spec.default_text.empty() && spec.key.find('*') == std::string::npos)
      config.entries_[spec.key] = Entry{spec.default_text, Origin{}};
  return config;
}

Config Config::load(const Sources& sources) {
  Config config = defaults();
  namespace fs = std::filesystem;

  // Layer 2: a file. --config wins; then guardian.toml; then [tool.guardian] in pyproject.toml.
  std::optional<fs::path> file = sources.explicit_file;
  bool from_pyproject = false;
  if (!file) {
    if (fs::exists(sources.working_dir / "guardian.toml")) file = sources.working_dir / "guardian.toml";
    else if (fs::exists(sources.working_dir / "pyproject.toml")) {
      file = sources.working_dir / "pyproject.toml";
      from_pyproject = true;
    }
  } else {
    from_pyproject = file->filename() == "pyproject.toml";
  }
  if (file) config.add_file_layer(read_config_file(*file), *file, from_pyproject);
  config.add_environment_layer(sources.environment);
  config.add_flag_layer(sources.flags);
  return config;
}

void Config::add_file_layer(std::string_view text, const std::filesystem::path& file, bool pyproject) {
  const toml::table root = parse_toml(text, file.string());
  FileLayer layer(*this, file.filename().string());
  if (pyproject) {
    if (auto tool = root["tool"]["guardian"].as_table()) {
      layer.read_table(*tool, "");
      file_ = file;
    }
  } else {
    layer.read_table(root, "");
    file_ = file;
  }
}

void Config::add_environment_layer(const std::vector<std::pair<std::string, std::string>>& environment) {
  // Only GUARDIAN_* variables named in the schema.
  for (const auto& [name, value] : environment)
    for (const auto& spec : schema())
      if (!spec.env.empty() && spec.env == name) set(spec.key, value, Origin{Origin::Layer::environment, name});
}

void Config::add_flag_layer(const std::vector<std::pair<std::string, std::string>>& flags) {
  for (const auto& [flag, value] : flags) {
    const KeySpec* match = nullptr;
    for (const auto& spec : schema())
      if (spec.flag == flag) match = &spec;
    if (!match) throw ConfigError(fmt::format("--{} is not a setting", flag));
    set(match->key, value, Origin{Origin::Layer::flag, flag});
  }
}

bool Config::has(const std::string& key) const { return entries_.count(key) > 0; }

const Entry* Config::find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string Config::text(const std::string& key) const {
  auto entry = find(key);
  return entry ? entry->text : std::string{};
}

bool Config::boolean(const std::string& key) const { return text(key) == "true"; }

std::optional<std::chrono::milliseconds> Config::duration(const std::string& key) const {
  auto entry = find(key);
  if (!entry) return std::nullopt;
  return parse_duration(entry->text);
}

std::vector<std::chrono::milliseconds> Config::duration_list(const std::string& key) const {
  const Entry* entry = find(key);  // the views parse_duration_list takes point into the entry
  if (!entry) return {};
  return parse_duration_list(entry->text).value_or(std::vector<std::chrono::milliseconds>{});
}

std::optional<std::uint64_t> Config::integer(const std::string& key) const {
  auto entry = find(key);
  if (!entry) return std::nullopt;
  return std::stoull(entry->text);
}

std::vector<std::string> Config::table_names(const std::string& prefix) const {
  std::set<std::string> names;
  for (const auto& [key, entry] : entries_) {
    if (key.size() > prefix.size() + 1 && key.starts_with(prefix + ".")) {
      auto rest = key.substr(prefix.size() + 1);
      names.insert(rest.substr(0, rest.find('.')));
    }
  }
  return {names.begin(), names.end()};
}

std::vector<std::pair<std::string, std::string>> guardian_environment() {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("GUARDIAN_")) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

}  // namespace guardian::config
