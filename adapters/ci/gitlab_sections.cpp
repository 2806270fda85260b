#include "adapters/ci/gitlab_sections.hpp"

#include <cctype>

#include <fmt/format.h>

namespace guardian::adapters::ci {
namespace {

std::string section_name(std::string_view name) {
  std::string out;
  for (unsigned char c : name) out += std::isalnum(c) || c == '_' || c == '.' || c == '-' ? static_cast<char>(c) : '_';
  return out.empty() ? "guardian" : out;
}

}  // namespace

std::string gitlab_section_start(std::string_view name, std::string_view header, std::int64_t unix_s,
                                 bool collapsed) {
  // The header is one log line: no line breaks inside.
  std::string one_line;
  for (char c : header) one_line += c == '\n' || c == '\r' ? ' ' : c;
  return fmt::format("\x1b[0Ksection_start:{}:{}{}\r\x1b[0K{}", unix_s, section_name(name),
                     collapsed ? "[collapsed=true]" : "", one_line);
}

std::string gitlab_section_end(std::string_view name, std::int64_t unix_s) {
  return fmt::format("\x1b[0Ksection_end:{}:{}\r\x1b[0K", unix_s, section_name(name));
}

}  // namespace guardian::adapters::ci
