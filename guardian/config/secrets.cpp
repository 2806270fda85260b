#include "guardian/config/secrets.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace guardian::config {

bool secret_name(std::string_view name) {
  std::string lower(name);
  // "X-Api-Key" (a header) is named like "x_api_key" (a setting).
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return c == '-' ? '_' : static_cast<char>(std::tolower(c)); });
  for (const char* word : {"token", "password", "passwd", "secret", "api_key", "apikey", "credential", "auth",
                           "private_key", "signature", "sig", "authorization", "cookie", "key"})
    if (lower == word || lower.ends_with(std::string("_") + word) || lower.starts_with(std::string(word) + "_"))
      return true;
  return false;
}

std::string mask_url_credentials(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, scheme_end + 3));
  std::string_view rest = url.substr(scheme_end + 3);
  // userinfo: everything before '@' in the authority (which ends at the first '/', '?' or '#').
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const auto at = rest.substr(0, authority_end).rfind('@');
  if (at != std::string_view::npos) {
    const auto colon = rest.substr(0, at).find(':');
    out += colon == std::string_view::npos ? std::string(kMasked) : std::string(rest.substr(0, colon)) + ":" + kMasked;
    out += "@";
    rest.remove_prefix(at + 1);
  }
  const auto question = rest.find('?');
  if (question == std::string_view::npos) return out + std::string(rest);
  out += rest.substr(0, question + 1);
  rest.remove_prefix(question + 1);
  // Query parameters named like secrets keep their name, not their value.
  bool first = true;
  while (true) {
    const auto amp = rest.find_first_of("&#");
    const std::string_view item = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && secret_name(item.substr(0, eq))) {
      out += std::string(item.substr(0, eq + 1)) + kMasked;
    } else {
      out += item;
    }
    if (amp == std::string_view::npos) break;
    if (rest[amp] == '#') {
      out += rest.substr(amp);
      break;
    }
    rest.remove_prefix(amp + 1);
  }
  return out;
}

namespace {

// A header line ("Authorization: Bearer x", for webhook headers) or a URL.
std::string mask_text(const std::string& text) {
  const auto colon = text.find(": ");
  if (colon != std::string::npos && colon > 0 &&
      text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == colon &&
      secret_name(std::string_view(text).substr(0, colon)))
    return text.substr(0, colon + 2) + kMasked;
  return mask_url_credentials(text);
}

}  // namespace

nlohmann::json mask_secrets(const nlohmann::json& tables) {
  if (tables.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : tables.items()) {
      const bool hide = secret_name(name) && (value.is_string() || value.is_number()) &&
                        !(value.is_string() && value.get<std::string>().empty());
      out[name] = hide ? nlohmann::json(kMasked) : mask_secrets(value);
    }
    return out;
  }
  if (tables.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : tables) out.push_back(mask_secrets(item));
    return out;
  }
  if (tables.is_string()) return mask_text(tables.get<std::string>());
  return tables;
}

}  // namespace guardian::config
