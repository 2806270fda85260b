#include "dashboard.hpp"

#include "dashboard_assets.hpp"

namespace guardian::websocket {

void add_dashboard_routes(Router& router) {
  for (const auto& asset : kDashboardAssets) {
    router.add(
        "GET", asset.path,
        [&asset](const HttpRequest&) {
          HttpResponse response;
          response.content_type = asset.content_type;
          response.body.assign(reinterpret_cast<const char*>(asset.data), asset.size);
          response.headers.emplace_back("X-Content-Type-Options", "nosniff");
          return response;
        },
        /*requires_token=*/false);
  }
}

}  // namespace guardian::websocket
