// The output of a VM scenario script, split into its sections:
//   @@@ begin NAME / @@ PART / lines... / @@@ end NAME
// Scenario scripts print facts and assert nothing; the GoogleTest binaries assert on these.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace guardian::testing {

struct Section {
  std::map<std::string, std::string> parts;

  std::string part(const std::string& name) const {
    auto it = parts.find(name);
    return it == parts.end() ? std::string() : it->second;
  }
  std::string trimmed(const std::string& name) const {
    std::string text = part(name);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.erase(0, 1);
    return text;
  }
  int exit_code() const {
    auto text = trimmed("exit");
    return text.empty() ? -1 : std::stoi(text);
  }
  /// The part "report" as JSON (discarded, i.e. not an object, when missing or malformed).
  nlohmann::json report() const {
    auto text = trimmed("report");
    if (text.empty()) return nlohmann::json();
    return nlohmann::json::parse(text, nullptr, false);
  }
};

inline std::map<std::string, Section> parse_sections(const std::string& raw) {
  std::map<std::string, Section> sections;
  std::istringstream in(raw);
  std::string line, section, part;
  while (std::getline(in, line)) {
    if (line.rfind("@@@ begin ", 0) == 0) {
      section = line.substr(10);
      part.clear();
      sections[section];
    } else if (line.rfind("@@@ end ", 0) == 0) {
      section.clear();
    } else if (line.rfind("@@ ", 0) == 0 && !section.empty()) {
      part = line.substr(3);
      sections[section].parts[part];
    } else if (!section.empty() && !part.empty()) {
      sections[section].parts[part] += line + "\n";
    }
  }
  return sections;
}

}  // namespace guardian::testing
