// The leadscore HTTP API over a Backend: the JSON views, /v1/model (GET, PUT), /metrics,
// /healthz, /readyz.
// Each handler reads the Backend when called (from the server's threads).
#pragma once

#include "server/backend.h"
#include "server/router.h"

namespace leadscore::server {

// `backend` must outlive the router; null serves no routes (every path is 404).
Router ApiRouter(Backend* backend);

}  // namespace leadscore::server
