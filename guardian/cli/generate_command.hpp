#pragma once
// `guardian __generate man|bash|zsh` (hidden): the manual page and the shell completions,
// printed from the command line's own definition (CLI11: subcommands, options, their help)
// and the configuration schema (keys, flags, environment variables, choices), so neither
// holds a second copy of any text. CMake runs it at build time and installs the output.
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace guardian::cli {

// One option as documentation sees it.
struct OptionDoc {
  std::vector<std::string> names;   // "--timeout", "-h"
  std::string value_name;           // "DURATION"; empty for a switch
  std::string description;
  std::vector<std::string> choices;  // enum values (from the schema)
  bool from_schema = false;          // documented once, under SETTINGS
};

// A (sub)command as documentation sees it: visible subcommands and options only.
struct CommandDoc {
  std::string name;
  std::string description;
  std::vector<OptionDoc> options;
  std::vector<CommandDoc> subcommands;
};

CommandDoc describe_command(const CLI::App& app);

void write_man_page(const CommandDoc& root, std::ostream& out);
void write_bash_completion(const CommandDoc& root, std::ostream& out);
void write_zsh_completion(const CommandDoc& root, std::ostream& out);

}  // namespace guardian::cli
