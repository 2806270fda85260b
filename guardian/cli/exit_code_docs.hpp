#pragma once
// What each of guardian's exit codes means, written once: the manual page's EXIT STATUS and
// the README's table (`guardian __generate exit-codes`, checked against README.md by the
// docs test) are both printed from this list.
#include <ostream>
#include <string>
#include <vector>

namespace guardian::cli {

struct ExitCodeDoc {
  std::string code;     // "124", "128+N", "the command's own"
  std::string meaning;  // plain text: no markup of either format
};

const std::vector<ExitCodeDoc>& exit_code_docs();

// The Markdown table the README embeds between its exit-codes markers.
void write_exit_codes_markdown(std::ostream& out);

}  // namespace guardian::cli
