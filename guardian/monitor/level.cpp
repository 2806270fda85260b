#include "guardian/monitor/level.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace guardian::monitor {

std::string_view to_string(Level level) {
  switch (level) {
    case Level::idle: return "IDLE";
    case Level::normal: return "NORMAL";
    case Level::intensive: return "INTENSIVE";
    case Level::critical: return "CRITICAL";
  }
  return "UNKNOWN";
}

std::optional<Level> parse_level(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (Level level : kAllLevels)
    if (to_string(level) == upper) return level;
  return std::nullopt;
}

Level one_up(Level level) {
  return level == Level::critical ? level : static_cast<Level>(static_cast<int>(level) + 1);
}

Level one_down(Level level) {
  return level == Level::idle ? level : static_cast<Level>(static_cast<int>(level) - 1);
}

}  // namespace guardian::monitor
