// http_post: one HTTP/1.1 POST (plain or TLS, certificate and host name verified) with a
// deadline over the whole exchange (resolve, connect, handshake, write, read), with Boost.Beast. All of the webhook plugin's Beast code is in http_post.cpp.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace guardian::webhook {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::string port;    // "80" when not given
  std::string target;  // "/api/v2/alerts" ("/" when empty)
};

// Parses "http[s]://host[:port][/path]". Sets error (with what to do) and returns nullopt
// when the URL cannot be used.
std::optional<Url> parse_url(const std::string& text, std::string& error);

struct TlsOptions {
  std::string ca_file;  // extra trusted CA certificates (PEM); the system's are always trusted
};

// Whether this build can post to https:// URLs (OpenSSL was found).
bool tls_supported();

struct PostResult {
  int status = 0;       // HTTP status; 0 when no response arrived
  std::string body;     // the response body (truncated to 4 KiB)
  std::string error;    // transport failure ("connecting to 127.0.0.1:9093: Connection refused", "timed out after 5000 ms")
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

PostResult http_post(const Url& url, const std::string& body, const std::string& content_type,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::chrono::milliseconds timeout, const TlsOptions& tls = {});

}  // namespace guardian::webhook
