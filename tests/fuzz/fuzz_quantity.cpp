// Durations, sizes, shares and cores as users type them, and the schema's validation of
// every kind of value. Beyond not crashing: what is accepted is within the documented
// maximum, and a duration printed back parses to itself.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "guardian/config/quantity.hpp"
#include "guardian/config/schema.hpp"

using namespace guardian::config;

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto duration = parse_duration(text)) {
    require(duration->count() >= 0 && *duration <= kMaxDuration);
    require(parse_duration(format_duration(*duration)) == duration);
    require(!duration_beyond_maximum(text));
  }
  if (auto list = parse_duration_list(text))
    for (auto d : *list) require(d.count() >= 0 && d <= kMaxDuration);
  if (auto bytes = parse_bytes(text)) {
    require(*bytes <= kMaxBytes);
    (void)format_bytes(*bytes);
  }
  if (auto share = parse_percent(text)) require(std::isfinite(*share) && *share >= 0);
  if (auto cores = parse_cores(text)) require(std::isfinite(*cores) && *cores > 0 && *cores <= kMaxCores);

  // One setting of each kind validates the text.
  for (const auto& spec : schema()) (void)validation_error(spec, text);
  return 0;
}
