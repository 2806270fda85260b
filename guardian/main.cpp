#include "guardian/cli/cli_main.hpp"

int main(int argc, char** argv) { return guardian::cli::main(argc, argv); }
