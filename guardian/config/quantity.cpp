#include "guardian/config/quantity.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace guardian::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads a non-negative decimal number ("12", "2.5") from the front of `s`.
std::optional<double> take_number(std::string_view& s) {
  std::size_t n = 0;
  bool seen_digit = false, seen_dot = false;
  while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || (s[n] == '.' && !seen_dot))) {
    if (s[n] == '.') seen_dot = true; else seen_digit = true;
    ++n;
  }
  if (!seen_digit) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + n, value);
  if (ec != std::errc{} || end != s.data() + n) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

// The duration in milliseconds, however long; empty if malformed.
std::optional<double> duration_ms(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  double total_ms = 0;
  bool any = false;
  while (!s.empty()) {
    auto number = take_number(s);
    if (!number) return std::nullopt;
    double unit_ms = 0;
    if (s.starts_with("ms")) { unit_ms = 1; s.remove_prefix(2); }
    else if (s.starts_with("s")) { unit_ms = 1e3; s.remove_prefix(1); }
    else if (s.starts_with("m")) { unit_ms = 60e3; s.remove_prefix(1); }
    else if (s.starts_with("h")) { unit_ms = 3600e3; s.remove_prefix(1); }
    else if (s.starts_with("d")) { unit_ms = 86400e3; s.remove_prefix(1); }
    else if (s.empty() && !any) { unit_ms = 1e3; }  // a bare number means seconds
    else return std::nullopt;
    total_ms += *number * unit_ms;
    any = true;
  }
  return total_ms;
}

// The size in bytes, however large; empty if malformed.
std::optional<double> bytes_value(std::string_view text) {
  std::string_view s = trim(text);
  auto number = take_number(s);
  if (!number) return std::nullopt;
  s = trim(s);
  double scale = 1;
  if (!s.empty()) {
    switch (s.front() | 0x20) {  // case-insensitive unit letter
      case 'k': scale = 1024.0; break;
      case 'm': scale = 1024.0 * 1024; break;
      case 'g': scale = 1024.0 * 1024 * 1024; break;
      case 't': scale = 1024.0 * 1024 * 1024 * 1024; break;
      case 'b': break;
      default: return std::nullopt;
    }
    if ((s.front() | 0x20) != 'b') s.remove_prefix(1);
    if (s == "iB" || s == "ib" || s == "B" || s == "b" || s.empty()) {
    } else {
      return std::nullopt;
    }
  }
  return *number * scale;
}

}  // namespace

std::optional<Milliseconds> parse_duration(std::string_view text) {
  auto ms = duration_ms(text);
  if (!ms || *ms > static_cast<double>(kMaxDuration.count())) return std::nullopt;
  return Milliseconds(static_cast<std::int64_t>(std::llround(*ms)));
}

bool duration_beyond_maximum(std::string_view text) {
  auto ms = duration_ms(text);
  return ms && *ms > static_cast<double>(kMaxDuration.count());
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  auto bytes = bytes_value(text);
  if (!bytes || *bytes > static_cast<double>(kMaxBytes)) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(*bytes));
}

bool bytes_beyond_maximum(std::string_view text) {
  auto bytes = bytes_value(text);
  return bytes && *bytes > static_cast<double>(kMaxBytes);
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    auto comma = text.find(',');
    items.push_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return items;
}

std::optional<std::vector<Milliseconds>> parse_duration_list(std::string_view text) {
  std::vector<Milliseconds> out;
  for (auto item : split_list(text)) {
    auto duration = parse_duration(item);
    if (!duration) return std::nullopt;
    out.push_back(*duration);
  }
  return out;
}

std::string format_duration(Milliseconds duration) {
  auto ms = duration.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) { out = "-"; ms = -ms; }
  const std::pair<std::int64_t, const char*> units[] = {
      {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [size, name] : units) {
    if (ms >= size) {
      out += fmt::format("{}{}", ms / size, name);
      ms %= size;
    }
  }
  return out;
}



std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) { value /= 1024; ++unit; }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.{}f} {}", value, value < 10 ? 1 : 0, units[unit]);
}

std::optional<double> parse_percent(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.ends_with('%')) return std::nullopt;
  s.remove_suffix(1);
  s = trim(s);
  auto number = take_number(s);
  if (!number || !s.empty()) return std::nullopt;
  return *number / 100.0;
}

std::optional<double> parse_cores(std::string_view text) {
  auto cores = parse_percent(text);
  if (!cores) {
    // Plain decimal only: from_chars would also take "inf", "nan" and "1e300".
    std::string_view s = trim(text);
    cores = take_number(s);
    if (!s.empty()) return std::nullopt;
  }
  if (!cores || !std::isfinite(*cores) || *cores <= 0 || *cores > kMaxCores) return std::nullopt;
  return cores;
}

}  // namespace guardian::config
