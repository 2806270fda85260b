#pragma once
// Parsing and printing of the quantities users type: durations ("90s", "1m30s"),
// byte sizes ("512M", "2GiB") and ratios ("80%", "1.5").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace guardian::config {

using Milliseconds = std::chrono::milliseconds;

/// "500ms", "90s", "15m", "1h30m", "2.5s", a bare number is seconds. Empty optional on error.
std::optional<Milliseconds> parse_duration(std::string_view text);
/// The shortest exact spelling: 90000ms -> "1m30s", 500ms -> "500ms", 0 -> "0s".
std::string format_duration(Milliseconds duration);

/// "512", "512K", "2G", "1.5GiB" (powers of 1024; K/M/G/T, optional "iB"/"B"). Empty on error.
std::optional<std::uint64_t> parse_bytes(std::string_view text);
/// Human form with binary units: 1536 -> "1.5 KiB".
std::string format_bytes(std::uint64_t bytes);

/// "80%" -> 0.8. Empty on error or when the text has no '%'.
std::optional<double> parse_percent(std::string_view text);

}  // namespace guardian::config
