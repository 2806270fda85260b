#pragma once
// "Did you mean …" for misspelt keys and choices.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::config {

/// The candidate closest to `typo` by edit distance, if it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view typo,
                                         const std::vector<std::string>& candidates);

}  // namespace guardian::config
