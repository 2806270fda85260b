#pragma once
// The command line: parses arguments (CLI11) and dispatches to the subcommands.
// Usage and configuration errors end here with exit 125 and a message that says what to do.
namespace guardian::cli {

int main(int argc, char** argv);

}  // namespace guardian::cli
