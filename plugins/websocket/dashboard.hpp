// The live dashboard's routes: GET / and /assets/* answered from the files embedded at
// build time (dashboard/ and the pinned chart library). The files hold no run data (that
// comes from the token-protected API and WebSocket), so they are served without a token.
#pragma once

#include "router.hpp"

namespace guardian::websocket {

void add_dashboard_routes(Router& router);

}  // namespace guardian::websocket
