#include "http_post.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace guardian::webhook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::optional<Url> parse_url(const std::string& text, std::string& error) {
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) {
    error = "url '" + text + "' has no scheme: write it as http://host:port/path";
    return std::nullopt;
  }
  url.scheme = text.substr(0, scheme_end);
  if (url.scheme != "http") {
    error = "url '" + text + "': only http:// is supported (" + url.scheme +
            " is not); point it at an http endpoint, e.g. a local Alertmanager or a relay";
    return std::nullopt;
  }
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
    url.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "80";
  } else {
    const auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    url.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (url.host.empty() || url.port.empty()) {
    error = "url '" + text + "' has no host or port: write it as http://host:port/path";
    return std::nullopt;
  }
  return url;
}

PostResult http_post(const Url& url, const std::string& body, const std::string& content_type,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::chrono::milliseconds timeout) {
  PostResult result;
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  net::steady_timer deadline(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);
  bool timed_out = false;
  const std::string where = url.host + ":" + url.port;

  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "guardian-webhook");
  request.set(http::field::content_type, content_type);
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();

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
    stream.socket().close(ignored);
  });
  resolver.async_resolve(url.host, url.port, [&](const beast::error_code& ec, const tcp::resolver::results_type& results) {
    if (ec) return fail("resolving", ec);
    stream.async_connect(results, [&](const beast::error_code& ec2, const tcp::endpoint&) {
      if (ec2) return fail("connecting to", ec2);
      http::async_write(stream, request, [&](const beast::error_code& ec3, std::size_t) {
        if (ec3) return fail("sending to", ec3);
        http::async_read(stream, buffer, parser, [&](const beast::error_code& ec4, std::size_t) {
          if (ec4) return fail("reading the answer of", ec4);
          result.status = static_cast<int>(parser.get().result_int());
          result.body = parser.get().body().substr(0, 4096);
          beast::error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
          deadline.cancel();
        });
      });
    });
  });
  ioc.run();
  if (timed_out) result.error = "no answer from " + where + " within " + std::to_string(timeout.count()) + " ms";
  return result;
}

}  // namespace guardian::webhook
