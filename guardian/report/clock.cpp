#include "guardian/report/clock.hpp"

#include <ctime>
#include <fmt/format.h>

namespace guardian::report {

std::string iso8601(WallTime time) {
  auto seconds = std::chrono::system_clock::to_time_t(time);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &local);
  long offset_minutes = local.tm_gmtoff / 60;
  char sign = offset_minutes < 0 ? '-' : '+';
  if (offset_minutes < 0) offset_minutes = -offset_minutes;
  return fmt::format("{}.{:03d}{}{:02d}:{:02d}", date, millis, sign, offset_minutes / 60, offset_minutes % 60);
}

std::string compact_utc(WallTime time) {
  auto seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

}  // namespace guardian::report
