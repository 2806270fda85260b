#include "guardian/cli/schema_flags.hpp"

#include "guardian/config/schema.hpp"

namespace guardian::cli {

void SchemaFlags::add_to(CLI::App& command, std::function<bool(const std::string& key)> honours) {
  for (const auto& spec : config::schema()) {
    if (spec.flag.empty() || (honours && !honours(spec.key))) continue;
    std::string help = spec.description;
    if (!spec.default_text.empty()) help += " [default: " + spec.default_text + "]";
    if (!spec.env.empty()) help += " (env " + spec.env + ")";
    CLI::Option* option = nullptr;
    if (spec.kind == config::ValueKind::boolean) {
      option = command.add_flag("--" + spec.flag, switches_[spec.flag], help);
    } else {
      option = command.add_option("--" + spec.flag, values_[spec.flag], help)
                   ->type_name(config::describe_kind(spec).substr(0, 24));
      // A comma-separated list setting takes its flag several times (--junit a.xml --junit b.xml).
      if (spec.description.find("Comma-separated") != std::string::npos)
        option->multi_option_policy(CLI::MultiOptionPolicy::Join)->delimiter(',');
    }
    options_.emplace_back(spec.flag, option);
  }
}

std::vector<std::pair<std::string, std::string>> SchemaFlags::given() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [flag, option] : options_) {
    if (option->count() == 0) continue;
    auto value = values_.find(flag);
    out.emplace_back(flag, value != values_.end() ? value->second : std::string("true"));
  }
  return out;
}

}  // namespace guardian::cli
