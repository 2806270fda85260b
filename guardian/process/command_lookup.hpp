#pragma once
// Finds the program a command names, the way a shell would, so that "not found" (127)
// and "not executable" (126) are told apart with a useful message before anything starts.
#include <filesystem>
#include <string>
#include <variant>

namespace guardian::process {

struct LookupFailure {
  int exit_code;        // 126 or 127
  std::string message;  // what happened and what to do
};

/// `name` with a '/' is taken as a path; otherwise it is searched in `path_variable`.
std::variant<std::filesystem::path, LookupFailure> find_program(const std::string& name,
                                                                const std::string& path_variable);

}  // namespace guardian::process
