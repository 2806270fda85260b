#pragma once
// Adds one CLI11 option per schema setting that has a flag, and reads back which ones
// the user gave, so flags, environment, files and `config show` all follow one schema.
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace guardian::cli {

class SchemaFlags {
 public:
  /// Registers the flags of the schema keys the command honours (all when `honours` is
  /// empty) on `command`: a flag the command would ignore is not offered.
  void add_to(CLI::App& command, std::function<bool(const std::string& key)> honours = nullptr);
  /// (flag, value) for each flag given on the command line, in schema order.
  std::vector<std::pair<std::string, std::string>> given() const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> switches_;
  std::vector<std::pair<std::string, CLI::Option*>> options_;
};

}  // namespace guardian::cli
