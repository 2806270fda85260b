// Router: the websocket plugin's HTTP side as plain types (no Beast here), so the
// status API and dashboard can add routes without touching the server code.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace guardian::websocket {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/api/status?x=1"
  std::string path;    // "/api/status"
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class Router {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Exact-path routes. requires_token: refused with 401 unless the request carries the
  // configured token (?token= or Authorization: Bearer), like the WebSocket upgrade.
  void add(std::string method, std::string path, Handler handler, bool requires_token = true);

  struct Route {
    Handler handler;
    bool requires_token = true;
  };
  // nullptr when no route matches (404), or the method differs (405 when the path exists).
  const Route* find(const std::string& method, const std::string& path, bool& path_exists) const;

 private:
  std::map<std::pair<std::string, std::string>, Route> routes_;
};

// Splits "/p?a=1&b=x%20y" into path and decoded query parameters.
void parse_target(const std::string& target, std::string& path, std::map<std::string, std::string>& query);

HttpResponse json_response(int status, std::string body);

}  // namespace guardian::websocket
