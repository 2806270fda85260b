#include "access.hpp"

#include <cctype>

namespace guardian::websocket {
namespace {

// Compares the whole string whatever the first difference: no timing hint about the token.
bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool token_accepted(const HttpRequest& request, const std::string& token) {
  if (token.empty()) return true;
  auto it = request.query.find("token");
  if (it != request.query.end() && constant_time_equal(it->second, token)) return true;
  const std::string auth = request.header("authorization");
  // "<scheme> <token>": the scheme is case-insensitive (RFC 7235 section 2.1), so curl's and
  // some proxies' "bearer" is the same as "Bearer".
  const auto space = auth.find(' ');
  if (space == std::string::npos || lower(auth.substr(0, space)) != "bearer") return false;
  const auto token_start = auth.find_first_not_of(' ', space);
  return token_start != std::string::npos && constant_time_equal(auth.substr(token_start), token);
}

bool origin_accepted(const HttpRequest& request, const ServerOptions& options, std::uint16_t port) {
  const std::string origin = request.header("origin");
  if (origin.empty()) return true;
  const std::string suffix = ":" + std::to_string(port);
  // The dashboard this server itself serves is always same-origin.
  for (const std::string& host : {std::string("127.0.0.1"), std::string("localhost"), options.bind_address}) {
    if (lower(origin) == "http://" + lower(host) + suffix) return true;
  }
  for (const auto& allowed : options.allowed_origins) {
    if (allowed == "*" || lower(allowed) == lower(origin)) return true;
  }
  return false;
}

}  // namespace guardian::websocket
