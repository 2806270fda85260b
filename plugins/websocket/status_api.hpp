// StatusApi: the read-only JSON status API under /api/monitoring/ (health, status,
// alerts/active, snapshots/recent, infra/metrics) built from the host's query answers and
// the plugin's Telemetry. Plain JSON in, HttpResponse out: no networking here.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "router.hpp"
#include "telemetry.hpp"

namespace guardian::websocket {

// Asks guardian ({"what": "status" | "alerts" | "snapshots", ...}) and returns its answer.
using QueryFn = std::function<nlohmann::json(const nlohmann::json& what)>;
// The same, as the JSON text guardian returned (no parse: large answers pass through).
using RawQueryFn = std::function<std::string(const nlohmann::json& what)>;

class StatusApi {
 public:
  StatusApi(QueryFn query, RawQueryFn raw_query, const Telemetry& telemetry)
      : query_(std::move(query)), raw_query_(std::move(raw_query)), telemetry_(telemetry) {}

  // Adds every /api/monitoring/ route (token required like the rest of the API) and a JSON
  // 404 for any other path under it.
  void add_routes(Router& router) const;

  HttpResponse health(const HttpRequest& request) const;
  HttpResponse status(const HttpRequest& request) const;
  HttpResponse active_alerts(const HttpRequest& request) const;
  HttpResponse recent_snapshots(const HttpRequest& request) const;
  HttpResponse infra_metrics(const HttpRequest& request) const;

 private:
  QueryFn query_;
  RawQueryFn raw_query_;
  const Telemetry& telemetry_;
};

// {"error": message, "status": code, ...extra}
HttpResponse error_response(int status, const std::string& message, nlohmann::json extra = nlohmann::json::object());

}  // namespace guardian::websocket
