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

std::string alert_annotation(const nlohmann::json& alert) {
  const std::string severity = alert.value("severity", "critical");
  const char* command = severity == "critical" ? "error" : severity == "warning" ? "warning" : "notice";
  std::string title = fmt::format("guardian: {}: {}", alert.value("type", "ALERT"), alert.value("title", ""));
  std::string message = alert.value("message", "");
  if (message.empty()) message = alert.value("title", "");
  if (auto count = alert.value("suppressed_count", 0); count > 0)
    message += fmt::format(" ({} similar alerts suppressed)", count);
  return workflow_command(command, {{"title", title}}, message);
}

}  // namespace guardian::adapters::ci
