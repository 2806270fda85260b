#include "router.hpp"

namespace guardian::websocket {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

void Router::add(std::string method, std::string path, Handler handler, bool requires_token) {
  routes_[{std::move(method), std::move(path)}] = Route{std::move(handler), requires_token};
}

const Router::Route* Router::find(const std::string& method, const std::string& path, bool& path_exists) const {
  path_exists = false;
  for (const auto& [key, route] : routes_) {
    if (key.second != path) continue;
    path_exists = true;
    if (key.first == method) return &route;
  }
  return nullptr;
}

void parse_target(const std::string& target, std::string& path, std::map<std::string, std::string>& query) {
  const auto question = target.find('?');
  path = target.substr(0, question);
  if (question == std::string::npos) return;
  std::string rest = target.substr(question + 1);
  std::size_t start = 0;
  while (start <= rest.size()) {
    const auto amp = rest.find('&', start);
    const std::string item = rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!item.empty()) {
      const auto eq = item.find('=');
      query[url_decode(item.substr(0, eq))] = eq == std::string::npos ? std::string() : url_decode(item.substr(eq + 1));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace guardian::websocket
