#pragma once
// Who may talk to the websocket plugin's server: the token check (query or Authorization
// header) and the Origin check for upgrades — pure string rules, kept out of server.cpp (the
// Beast code) so they compile fast and are tested and fuzzed on their own.
#include <cstdint>
#include <string>

#include "router.hpp"
#include "server.hpp"

namespace guardian::websocket {

// ASCII lower case (header names, schemes, origins).
std::string lower(std::string text);

// The request carries the token: `?token=` or `Authorization: <scheme> <token>`, the scheme
// "Bearer" in any case (RFC 7235 section 2.1). Always true without a token.
bool token_accepted(const HttpRequest& request, const std::string& token);

// The upgrade's Origin is this server's own (127.0.0.1, localhost or the bind address at
// `port`), one of `allowed_origins` ("*" = any), or absent (non-browser clients).
bool origin_accepted(const HttpRequest& request, const ServerOptions& options, std::uint16_t port);

}  // namespace guardian::websocket
