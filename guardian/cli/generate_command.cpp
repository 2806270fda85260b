#include "guardian/cli/generate_command.hpp"

#include <iostream>
#include <memory>

#include "guardian/cli/subcommand.hpp"

namespace guardian::cli {

Subcommand add_generate_command(CLI::App& app, GlobalOptions&) {
  auto* generate = app.add_subcommand("__generate", "Print the manual page or a shell completion (build time)");
  generate->group("");  // hidden: not in --help, the manual or the completions
  auto what = std::make_shared<std::string>();
  generate->add_option("what", *what, "man, bash or zsh")->required()->check(CLI::IsMember({"man", "bash", "zsh"}));
  return {generate, [&app, what] {
            const CommandDoc root = describe_command(app);
            if (*what == "man") write_man_page(root, std::cout);
            else if (*what == "bash") write_bash_completion(root, std::cout);
            else write_zsh_completion(root, std::cout);
            return std::cout.flush() ? 0 : 1;
          }};
}

}  // namespace guardian::cli
