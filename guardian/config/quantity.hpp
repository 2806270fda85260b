#pragma once
// Parsing and printing of the quantities users type: durations ("90s", "1m30s"),
// byte sizes ("512M", "2GiB") and ratios ("80%", "1.5").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::config {

using Milliseconds = std::chrono::milliseconds;

/// The longest duration accepted: 100 years. Timers count nanoseconds in an int64 (at most
/// ~292 years from the clock's epoch), so a longer timeout would overflow and fire at once.
inline constexpr Milliseconds kMaxDuration{36500LL * 86400 * 1000};
inline constexpr const char* kMaxDurationText = "36500d";
/// The largest size accepted: 1 EiB (the kernel's memory.max is an int64 of bytes).
inline constexpr std::uint64_t kMaxBytes = 1ULL << 60;
inline constexpr const char* kMaxBytesText = "1048576T";
/// The most CPU cores a ceiling may name.
inline constexpr double kMaxCores = 65536;

/// "500ms", "90s", "15m", "1h30m", "2.5s", a bare number is seconds. Empty optional on error
/// or beyond kMaxDuration.
std::optional<Milliseconds> parse_duration(std::string_view text);
/// Whether `text` is a well-formed duration longer than kMaxDuration (to say so, not just "invalid").
bool duration_beyond_maximum(std::string_view text);
/// The shortest exact spelling: 90000ms -> "1m30s", 500ms -> "500ms", 0 -> "0s".
std::string format_duration(Milliseconds duration);

/// The items of a comma-separated list ("90s,120s" -> "90s", "120s"); views into `text`.
std::vector<std::string_view> split_list(std::string_view text);
/// "90s,120s,180s": every item a duration, else empty.
std::optional<std::vector<Milliseconds>> parse_duration_list(std::string_view text);

/// "512", "512K", "2G", "1.5GiB" (powers of 1024; K/M/G/T, optional "iB"/"B"). Empty on error
/// or beyond kMaxBytes.
std::optional<std::uint64_t> parse_bytes(std::string_view text);
/// Whether `text` is a well-formed size larger than kMaxBytes.
bool bytes_beyond_maximum(std::string_view text);
/// Human form with binary units: 1536 -> "1.5 KiB".
std::string format_bytes(std::uint64_t bytes);

/// "80%" -> 0.8. Empty on error or when the text has no '%'.
std::optional<double> parse_percent(std::string_view text);

/// CPU cores: "1.5" (cores) or "150%" (of one core) -> 1.5. Empty unless finite, more than 0
/// and at most kMaxCores ("inf", "nan", "1e300" are refused).
std::optional<double> parse_cores(std::string_view text);

}  // namespace guardian::config
