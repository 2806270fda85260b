#include "http_post.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#ifdef GUARDIAN_WEBHOOK_TLS
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#endif

namespace guardian::webhook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

bool tls_supported() {
#ifdef GUARDIAN_WEBHOOK_TLS
  return true;
#else
  return false;
#endif
}

std::optional<Url> parse_url(const std::string& text, std::string& error) {
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) {
    error = "url '" + text + "' has no scheme: write it as http://host:port/path";
    return std::nullopt;
  }
  url.scheme = text.substr(0, scheme_end);
  if (url.scheme != "http" && !(url.scheme == "https" && tls_supported())) {
    error = "url '" + text + "': only http://" + std::string(tls_supported() ? " and https://" : "") +
            " are supported (" + url.scheme + " is not)" +
            (url.scheme == "https" ? ": this build has no TLS (OpenSSL was not found when it was built)" : "");
    return std::nullopt;
  }
  const std::string default_port = url.scheme == "https" ? "443" : "80";
  std::string rest = text.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  url.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) {
    error = "url '" + text + "': credentials in the URL are not supported; use headers = [\"Authorization: ...\"]";
    return std::nullopt;
  }
  if (!authority.empty() && authority.front() == '[') {  // [::1]:9093
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      error = "url '" + text + "': unterminated IPv6 address";
      return std::nullopt;
    }
    url.host = authority.substr(1, close - 1);
    url.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : default_port;
  } else {
    const auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    url.port = colon == std::string::npos ? default_port : authority.substr(colon + 1);
  }
  if (url.host.empty() || url.port.empty()) {
    error = "url '" + text + "' has no host or port: write it as http://host:port/path";
    return std::nullopt;
  }
  return url;
}

namespace {

// One exchange on any stream (plain TCP or TLS over TCP) under one deadline. `handshake`
// runs after the connection is up (nothing for plain HTTP).
template <class Stream, class Handshake>
PostResult exchange(net::io_context& ioc, Stream& stream, const Url& url, http::request<http::string_body>& request,
                    std::chrono::milliseconds timeout, Handshake handshake) {
  PostResult result;
  tcp::resolver resolver(ioc);
  net::steady_timer deadline(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);
  bool timed_out = false;
  const std::string where = url.host + ":" + url.port;
  auto& socket = beast::get_lowest_layer(stream).socket();

  auto fail = [&](const char* stage, const beast::error_code& ec) {
    if (result.error.empty()) result.error = std::string(stage) + " " + where + ": " + ec.message();
    deadline.cancel();
  };
  deadline.expires_after(timeout);
  deadline.async_wait([&](const beast::error_code& ec) {
    if (ec) return;
    timed_out = true;
    resolver.cancel();
    beast::error_code ignored;
    socket.close(ignored);
  });
  resolver.async_resolve(url.host, url.port, [&](const beast::error_code& ec, const tcp::resolver::results_type& results) {
    if (ec) return fail("resolving", ec);
    beast::get_lowest_layer(stream).async_connect(results, [&](const beast::error_code& ec2, const tcp::endpoint&) {
      if (ec2) return fail("connecting to", ec2);
      handshake([&](const beast::error_code& ec3) {
        if (ec3) return fail("TLS handshake with", ec3);
        http::async_write(stream, request, [&](const beast::error_code& ec4, std::size_t) {
          if (ec4) return fail("sending to", ec4);
          http::async_read(stream, buffer, parser, [&](const beast::error_code& ec5, std::size_t) {
            if (ec5) return fail("reading the answer of", ec5);
            result.status = static_cast<int>(parser.get().result_int());
            result.body = parser.get().body().substr(0, 4096);
            beast::error_code ignored;
            socket.shutdown(tcp::socket::shutdown_both, ignored);
            deadline.cancel();
          });
        });
      });
    });
  });
  ioc.run();
  if (timed_out) result.error = "no answer from " + where + " within " + std::to_string(timeout.count()) + " ms";
  return result;
}

}  // namespace

PostResult http_post(const Url& url, const std::string& body, const std::string& content_type,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::chrono::milliseconds timeout, const TlsOptions& tls) {
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "guardian-webhook");
  request.set(http::field::content_type, content_type);
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();

  net::io_context ioc;
  if (url.scheme != "https") {
    beast::tcp_stream stream(ioc);
    return exchange(ioc, stream, url, request, timeout, [](auto&& done) { done(beast::error_code{}); });
  }
#ifdef GUARDIAN_WEBHOOK_TLS
  net::ssl::context context(net::ssl::context::tls_client);
  beast::error_code ec;
  context.set_default_verify_paths(ec);
  if (!tls.ca_file.empty()) {
    context.load_verify_file(tls.ca_file, ec);
    if (ec) return PostResult{0, "", "loading ca_file '" + tls.ca_file + "': " + ec.message()};
  }
  context.set_verify_mode(net::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, context);
  // The certificate must name the host (or the IP address) the URL names; SNI for names.
  X509_VERIFY_PARAM* param = SSL_get0_param(stream.native_handle());
  boost::system::error_code ip_error;
  net::ip::make_address(url.host, ip_error);
  if (!ip_error) {
    X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
  }
  return exchange(ioc, stream, url, request, timeout,
                  [&stream](auto&& done) { stream.async_handshake(net::ssl::stream_base::client, done); });
#else
  (void)tls;
  return PostResult{0, "", "https is not supported by this build"};
#endif
}

}  // namespace guardian::webhook
