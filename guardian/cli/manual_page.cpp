// guardian(1) in roff, from the command line's definition and the configuration schema.
#include <fmt/format.h>

#include "guardian/cli/exit_code_docs.hpp"
#include "guardian/cli/generate_command.hpp"
#include "guardian/config/schema.hpp"

namespace guardian::cli {
namespace {

// Text safe inside roff: backslashes and hyphens escaped, no line starting a request.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else if (c == '\n') out += "\n.br\n";
    else out += c;
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out.insert(0, "\\&");
  return out;
}

std::string option_synopsis(const OptionDoc& option) {
  std::string text;
  for (const auto& name : option.names) text += (text.empty() ? "" : ", ") + fmt::format("\\fB{}\\fR", roff(name));
  if (!option.value_name.empty()) text += fmt::format(" \\fI{}\\fR", roff(option.value_name));
  return text;
}

void write_options(const std::vector<OptionDoc>& options, std::ostream& out) {
  for (const auto& option : options) {
    if (option.from_schema) continue;
    out << ".TP\n" << option_synopsis(option) << "\n" << roff(option.description) << "\n";
  }
}

void write_command(const CommandDoc& command, const std::string& prefix, std::ostream& out) {
  const std::string name = prefix + " " + command.name;
  bool has_schema_flags = false;
  for (const auto& option : command.options) has_schema_flags |= option.from_schema;
  out << ".SS " << roff(name) << "\n" << roff(command.description) << "\n";
  if (has_schema_flags) out << ".PP\nTakes every setting's flag (see \\fBSETTINGS\\fR).\n";
  write_options(command.options, out);
  for (const auto& sub : command.subcommands) write_command(sub, name, out);
}

}  // namespace

void write_man_page(const CommandDoc& root, std::ostream& out) {
  out << ".TH GUARDIAN 1 \"\" \"guardian " GUARDIAN_VERSION "\" \"User Commands\"\n.nh\n.ad l\n";  // no hyphenation: keys stay greppable
  out << ".SH NAME\nguardian \\- " << roff(root.description.substr(root.description.find("— ") == std::string::npos
                                                                          ? 0
                                                                          : root.description.find("— ") + 4))
      << "\n";
  out << ".SH SYNOPSIS\n.B guardian\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fB\\-\\-\\fR "
         "\\fIPROGRAM\\fR [\\fIARGS\\fR...]]\n";
  out << ".SH OPTIONS\n";
  write_options(root.options, out);
  out << ".SH COMMANDS\n";
  for (const auto& command : root.subcommands) write_command(command, "guardian", out);

  out << ".SH SETTINGS\nEvery setting can be given, from lowest to highest priority, as its default, in "
         "\\fBguardian.toml\\fR (or \\fB[tool.guardian]\\fR in \\fBpyproject.toml\\fR) as its key, as its "
         "environment variable, and as its flag. \\fBguardian config keys\\fR lists them; "
         "\\fBguardian config show\\fR shows each effective value and its origin.\n";
  for (const auto& spec : config::schema()) {
    out << ".TP\n\\fB" << roff(spec.key) << "\\fR";
    if (!spec.flag.empty()) out << ", \\fB\\-\\-" << roff(spec.flag) << "\\fR";
    if (!spec.env.empty()) out << ", \\fB" << roff(spec.env) << "\\fR";
    out << "\n" << roff(spec.description) << "\n.br\n" << roff(config::describe_kind(spec));
    if (!spec.default_text.empty()) out << "; default \\fB" << roff(spec.default_text) << "\\fR";
    out << "\n";
  }

  out << ".SH ENVIRONMENT\n";
  for (const auto& spec : config::schema()) {
    if (spec.env.empty()) continue;
    out << ".TP\n\\fB" << roff(spec.env) << "\\fR\nsets \\fB" << roff(spec.key) << "\\fR\n";
  }
  out << ".TP\n\\fBGUARDIAN_PLUGIN_PATH\\fR\nmore directories to look for plugins in (':'\\-separated)\n";
  out << ".TP\n\\fBGUARDIAN_RUN_ID\\fR, \\fBGUARDIAN_RUN_DIR\\fR\nset for the supervised command: its run's id and "
         "directory\n";

  out << ".SH EXIT STATUS\n";
  for (const auto& code : exit_code_docs()) out << ".TP\n\\fB" << roff(code.code) << "\\fR\n" << roff(code.meaning) << "\n";

  out << ".SH FILES\n"
         ".TP\n\\fBguardian.toml\\fR, \\fBpyproject.toml\\fR ([tool.guardian])\nthe configuration, read from the "
         "working directory (or \\fB\\-\\-config\\fR \\fIPATH\\fR)\n"
         ".TP\n\\fB.guardian/runs/\\fR\\fIRUN\\-ID\\fR\\fB/\\fR\none directory per run (\\fBrun.runs_dir\\fR): "
         "\\fBevents.jsonl\\fR, \\fBalerts.jsonl\\fR, \\fBreport.json\\fR; the newest \\fBruns.keep\\fR are kept, "
         "and a \\fB.gitignore\\fR keeps them out of git\n"
         ".TP\n\\fIPREFIX\\fR\\fB/lib/guardian/plugins/\\fR\nthe bundled plugins (found next to the executable)\n"
         ".TP\n\\fIPREFIX\\fR\\fB/share/guardian/adapters/pytest/\\fR\nguardian's pytest plugin\n";
  out << ".SH SEE ALSO\n\\fBpytest\\fR(1), \\fBctest\\fR(1), \\fBsystemd\\-run\\fR(1)\n";
}

}  // namespace guardian::cli
