// What the HTTP server serves, as an interface: the streaming service implements it,
// tests may give a fake. Every method is called from the server's threads at any time
// and must not wait for a processing batch.
#pragma once

#include <optional>
#include <string>

#include "codec/codec.h"
#include "common/status.h"
#include "engine/engine.h"

namespace leadscore::server {

enum class ReportFormat { kJson, kHtml };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::optional<engine::EntityView> ViewLead(const std::string& id) const = 0;
  virtual std::optional<engine::EntityView> ViewAccount(const std::string& id) const = 0;
  virtual std::string MetricsText() const = 0;  // Prometheus text exposition
  virtual bool Ready() const = 0;               // partitions assigned, their state resumed, no failure
  virtual bool Healthy() const = 0;             // the processing loop has not failed
  virtual std::string model_version() const = 0;

  // A backend that keeps no routing snapshots (a test's fake) knows no routing event
  // and has no report: the defaults say so.
  //
  // GET /v1/routings/{id}: the routing event as published, with the outcomes that
  // answered it; nullopt: unknown. An error: the state could not be read.
  virtual Result<std::optional<codec::RoutingSnapshot>> ViewRouting(const std::string& routing_id) const {
    (void)routing_id;
    return std::optional<codec::RoutingSnapshot>();
  }
  // GET /v1/report: the calibration report (SPEC section 7) over the kept snapshots.
  virtual Result<std::string> CalibrationReport(ReportFormat format) const {
    (void)format;
    return Status::Unavailable("this backend keeps no routing events");
  }
};

}  // namespace leadscore::server
