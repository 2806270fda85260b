#include "guardian/limits/cgroup_formats.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace guardian::limits {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

template <typename T>
std::optional<T> to_number(std::string_view s) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Calls f(line) for each line of text (without the newline).
template <typename F>
void for_each_line(std::string_view text, F f) {
  while (!text.empty()) {
    auto newline = text.find('\n');
    f(text.substr(0, newline));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
}

}  // namespace

std::vector<std::string> parse_controllers(std::string_view text) {
  std::vector<std::string> out;
  text = trim(text);
  while (!text.empty()) {
    auto space = text.find_first_of(" \n\t");
    auto word = text.substr(0, space);
    if (!word.empty()) out.emplace_back(word);
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

std::map<std::string, std::uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, std::uint64_t> out;
  for_each_line(text, [&](std::string_view line) {
    line = trim(line);
    auto space = line.find(' ');
    if (space == std::string_view::npos) return;
    if (auto value = to_number<std::uint64_t>(trim(line.substr(space + 1))))
      out.emplace(std::string(line.substr(0, space)), *value);
  });
  return out;
}

std::optional<MaxValue> parse_max_value(std::string_view text) {
  text = trim(text);
  if (text == "max") return MaxValue{};
  auto value = to_number<std::uint64_t>(text);
  if (!value) return std::nullopt;
  return MaxValue{*value};
}

std::string format_max_value(std::optional<std::uint64_t> value) {
  return value ? std::to_string(*value) : std::string("max");
}

std::optional<double> CpuMax::cores() const {
  if (!quota_usec || period_usec == 0) return std::nullopt;
  return static_cast<double>(*quota_usec) / static_cast<double>(period_usec);
}

std::optional<CpuMax> parse_cpu_max(std::string_view text) {
  text = trim(text);
  auto space = text.find(' ');
  CpuMax out;
  auto quota = text.substr(0, space);
  if (space != std::string_view::npos) {
    auto period = to_number<std::uint64_t>(trim(text.substr(space + 1)));
    if (!period || *period == 0) return std::nullopt;
    out.period_usec = *period;
  }
  if (quota != "max") {
    auto value = to_number<std::uint64_t>(quota);
    if (!value) return std::nullopt;
    out.quota_usec = *value;
  }
  return out;
}

std::string format_cpu_max(std::optional<double> cores, std::uint64_t period_usec) {
  if (!cores) return fmt::format("max {}", period_usec);
  // The kernel refuses quotas below 1 ms.
  auto quota = std::max<std::uint64_t>(1000, static_cast<std::uint64_t>(std::llround(*cores * static_cast<double>(period_usec))));
  return fmt::format("{} {}", quota, period_usec);
}

std::optional<std::string> parse_unified_cgroup_path(std::string_view text) {
  std::optional<std::string> out;
  for_each_line(text, [&](std::string_view line) {
    if (!out && line.starts_with("0::")) out = std::string(trim(line.substr(3)));
  });
  return out;
}

std::optional<std::string> parse_v1_cgroup_path(std::string_view text, std::string_view controller) {
  std::optional<std::string> out;
  for_each_line(text, [&](std::string_view line) {
    auto first = line.find(':');
    if (out || first == std::string_view::npos) return;
    auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) return;
    std::string names(line.substr(first + 1, second - first - 1));  // "cpu,cpuacct"
    for (auto& c : names)
      if (c == ',') c = ' ';
    for (const auto& name : parse_controllers(names))
      if (name == controller) out = std::string(trim(line.substr(second + 1)));
  });
  return out;
}

std::vector<pid_t> parse_pid_list(std::string_view text) {
  std::vector<pid_t> out;
  for_each_line(text, [&](std::string_view line) {
    if (auto pid = to_number<pid_t>(trim(line)); pid && *pid > 0) out.push_back(*pid);
  });
  return out;
}

std::optional<Pressure> parse_pressure(std::string_view text) {
  Pressure out;
  bool some = false;
  for_each_line(text, [&](std::string_view line) {
    line = trim(line);
    bool is_some = line.starts_with("some ");
    bool is_full = line.starts_with("full ");
    if (!is_some && !is_full) return;
    some = some || is_some;
    for (auto field : parse_controllers(line.substr(5))) {
      auto eq = field.find('=');
      if (eq == std::string::npos) continue;
      std::string_view key(field.data(), eq), value(field.data() + eq + 1, field.size() - eq - 1);
      if (key == "total") {
        auto total = to_number<std::uint64_t>(value).value_or(0);
        (is_some ? out.some_total_usec : out.full_total_usec) = total;
      } else if (key == "avg10" || key == "avg60") {
        double avg = to_number<double>(value).value_or(0);
        if (key == "avg10") (is_some ? out.some_avg10 : out.full_avg10) = avg;
        else (is_some ? out.some_avg60 : out.full_avg60) = avg;
      }
    }
  });
  if (!some) return std::nullopt;
  return out;
}

}  // namespace guardian::limits
