#include "adapters/ci/github_commands.hpp"

#include <fmt/format.h>

namespace guardian::adapters::ci {
namespace {

std::string escape(std::string_view text, bool property) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '%': out += "%25"; break;
      case '\r': out += "%0D"; break;
      case '\n': out += "%0A"; break;
      case ':': out += property ? "%3A" : ":"; break;
      case ',': out += property ? "%2C" : ","; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string escape_data(std::string_view text) { return escape(text, false); }
std::string escape_property(std::string_view text) { return escape(text, true); }

std::string workflow_command(std::string_view command,
                             const std::vector<std::pair<std::string, std::string>>& properties,
                             std::string_view message) {
  std::string line = "::" + std::string(command);
  for (std::size_t i = 0; i < properties.size(); ++i)
    line += fmt::format("{}{}={}", i == 0 ? " " : ",", properties[i].first, escape_property(properties[i].second));
  return line + "::" + escape_data(message);
}

namespace {

// "tests/test_x.py" from "tests/test_x.py::TestA::test_b[1]", empty if the id names no file.
std::string file_of(std::string_view nodeid) {
  auto colons = nodeid.find("::");
  if (colons == std::string_view::npos) return {};
  std::string_view file = nodeid.substr(0, colons);
  return file.find('.') == std::string_view::npos ? std::string() : std::string(file);
}

// The line of "<path>:<line>: ..." when <path> is `file` (or ends with "/" + file).
std::string line_in(std::string_view text, std::string_view file, std::string_view workspace) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view path = text.substr(0, colon);
  if (!workspace.empty() && path.starts_with(workspace) && path.size() > workspace.size() + 1 &&
      path[workspace.size()] == '/')
    path.remove_prefix(workspace.size() + 1);
  if (path != file && !(path.size() > file.size() && path.ends_with(file) && path[path.size() - file.size() - 1] == '/'))
    return {};
  auto digits_end = text.find(':', colon + 1);
  if (digits_end == std::string_view::npos || digits_end == colon + 1) return {};
  std::string_view digits = text.substr(colon + 1, digits_end - colon - 1);
  for (char c : digits)
    if (c < '0' || c > '9') return {};
  return std::string(digits);
}

}  // namespace

std::string alert_annotation(const nlohmann::json& alert, std::string_view workspace) {
  const std::string severity = alert.value("severity", "critical");
  const char* command = severity == "critical" ? "error" : severity == "warning" ? "warning" : "notice";
  std::string title = fmt::format("guardian: {}: {}", alert.value("type", "ALERT"), alert.value("title", ""));
  std::string message = alert.value("message", "");
  if (message.empty()) message = alert.value("title", "");
  if (auto count = alert.value("suppressed_count", 0); count > 0)
    message += fmt::format(" ({} similar alerts suppressed)", count);
  std::vector<std::pair<std::string, std::string>> properties;
  std::string nodeid;
  if (auto context = alert.find("context"); context != alert.end() && context->is_object())
    nodeid = context->value("nodeid", "");
  if (std::string file = file_of(nodeid); !file.empty()) {
    properties.emplace_back("file", file);
    if (auto line = line_in(alert.value("message", ""), file, workspace); !line.empty())
      properties.emplace_back("line", line);
  }
  properties.emplace_back("title", title);
  return workflow_command(command, properties, message);
}

}  // namespace guardian::adapters::ci
