#pragma once
// What `guardian config show` must not print in clear: plugin settings named like secrets
// (the websocket token, passwords, API keys) and credentials inside URLs (webhook URLs with
// user:password@ or ?token=). Values are replaced by "****", so the shape stays readable.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace guardian::config {

inline constexpr const char* kMasked = "****";

/// Whether a setting's name says it holds a secret (token, password, secret, api_key, …).
bool secret_name(std::string_view name);
/// `url` with the password of its userinfo and the values of secret-named query parameters masked.
std::string mask_url_credentials(std::string_view url);
/// A copy of `tables` ([plugins.*] as JSON) with secret-named values and URL credentials masked.
nlohmann::json mask_secrets(const nlohmann::json& tables);

}  // namespace guardian::config
