#pragma once
// Reading guardian's TOML safely: a configuration file must be a regular, readable file
// (read without ever blocking), and its text is checked for what toml++ 3.3.0 (Debian 12's)
// mishandles before toml++ sees it (config.cpp, the one file that includes toml++).
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace guardian::config {

/// Largest configuration file read: a guardian.toml or pyproject.toml is a few KiB.
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

/// The text of a configuration file. Throws ConfigError saying what is wrong and what to do
/// when it is missing, not a regular file (a directory, a device, a FIFO), unreadable or too large.
std::string read_config_file(const std::filesystem::path& path);

/// A place in the text that must not reach toml++, and why.
struct TomlTextProblem {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes
  std::string reason;
};

/// What TOML 1.0 forbids and toml++ 3.3.0 does not handle safely: a non-ASCII character outside
/// strings and comments (its whitespace test reaches __builtin_unreachable() for U+00A1..U+0499
/// and others), and a table header whose name does not start with a key (an assertion in
/// parse_key: "[=", "[\\t]" (a backslash), "[.").
std::optional<TomlTextProblem> toml_text_problem(std::string_view text);

}  // namespace guardian::config
