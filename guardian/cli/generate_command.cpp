#include "guardian/cli/generate_command.hpp"

#include <iostream>
#include <memory>

#include "guardian/cli/exit_code_docs.hpp"
#include "guardian/cli/subcommand.hpp"

namespace guardian::cli {

Subcommand add_generate_command(CLI::App& app, GlobalOptions&) {
  auto* generate = app.add_subcommand("__generate", "Print the manual page, a shell completion or the README's exit-code table (build time)");
  generate->group("");  // hidden: not in --help, the manual or the completions
  auto what = std::make_shared<std::string>();
  generate->add_option("what", *what, "man, bash, zsh or exit-codes")
      ->required()
      ->check(CLI::IsMember({"man", "bash", "zsh", "exit-codes"}));
  return {generate, [&app, what] {
            const CommandDoc root = describe_command(app);
            if (*what == "man") write_man_page(root, std::cout);
            else if (*what == "bash") write_bash_completion(root, std::cout);
            else if (*what == "exit-codes") write_exit_codes_markdown(std::cout);
            else write_zsh_completion(root, std::cout);
            return std::cout.flush() ? 0 : 1;
          }};
}

}  // namespace guardian::cli
