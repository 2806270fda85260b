#include "guardian/cli/generate_command.hpp"

#include <cctype>

#include "guardian/config/schema.hpp"

namespace guardian::cli {
namespace {

const config::KeySpec* spec_of_flag(const std::string& long_name) {
  for (const auto& spec : config::schema())
    if (!spec.flag.empty() && spec.flag == long_name) return &spec;
  return nullptr;
}

OptionDoc describe_option(const CLI::Option& option) {
  OptionDoc doc;
  for (const auto& name : option.get_lnames()) doc.names.push_back("--" + name);
  for (const auto& name : option.get_snames()) doc.names.push_back("-" + name);
  doc.description = option.get_description();
  if (option.get_items_expected_max() > 0) {  // takes a value (a flag expects none)
    // option_text("PATH") when given, else the type name's first word ("duration (e.g. 90s)").
    doc.value_name = option.get_option_text();
    if (doc.value_name.empty()) doc.value_name = option.get_type_name();
    doc.value_name = doc.value_name.substr(0, doc.value_name.find(' '));
    for (auto& c : doc.value_name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (doc.value_name.empty()) doc.value_name = "VALUE";
  }
  if (!option.get_lnames().empty()) {
    if (const auto* spec = spec_of_flag(option.get_lnames().front())) {
      doc.from_schema = true;
      doc.choices = spec->choices;
      if (spec->kind == config::ValueKind::boolean) doc.choices.clear();
    }
  }
  return doc;
}

}  // namespace

CommandDoc describe_command(const CLI::App& app) {
  CommandDoc doc{app.get_name(), app.get_description(), {}, {}};
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty() || !option->nonpositional()) continue;  // hidden or positional
    doc.options.push_back(describe_option(*option));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;  // hidden (__generate)
    doc.subcommands.push_back(describe_command(*sub));
  }
  return doc;
}

}  // namespace guardian::cli
