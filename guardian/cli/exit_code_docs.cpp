#include "guardian/cli/exit_code_docs.hpp"

#include <fmt/format.h>

#include "guardian/process/exit_status.hpp"

namespace guardian::cli {

const std::vector<ExitCodeDoc>& exit_code_docs() {
  using namespace process::exit_code;
  static const std::vector<ExitCodeDoc> docs = {
      {"the command's own", "it ended normally"},
      {fmt::format("{}+N", signal_base),
       fmt::format("it died of signal N ({} = SIGKILL, e.g. the memory ceiling: report.json's killed_by says which)",
                   signal_base + 9)},
      {std::to_string(timed_out),
       "--timeout expired, or a test ran longer than --test-timeout (report.json's outcome says which: timed_out or "
       "test_timed_out)"},
      {std::to_string(guardian_failed), "guardian itself failed: bad usage or configuration; nothing was started"},
      {std::to_string(not_executable), "the command is not executable"},
      {std::to_string(not_found), "the command was not found"},
  };
  return docs;
}

void write_exit_codes_markdown(std::ostream& out) {
  out << "| exit | meaning |\n|---|---|\n";
  for (const auto& doc : exit_code_docs()) out << "| " << doc.code << " | " << doc.meaning << " |\n";
}

}  // namespace guardian::cli
