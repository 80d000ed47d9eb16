// What the HTTP server serves, as an interface: the streaming service implements it,
// tests may give a fake. Every method is called from the server's threads at any time
// and must not wait for a processing batch.
#pragma once

#include <optional>
#include <string>

#include "engine/engine.h"

namespace leadscore::server {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::optional<engine::EntityView> ViewLead(const std::string& id) const = 0;
  virtual std::optional<engine::EntityView> ViewAccount(const std::string& id) const = 0;
  virtual std::string MetricsText() const = 0;  // Prometheus text exposition
  virtual bool Ready() const = 0;               // partitions assigned, their state resumed, no failure
  virtual bool Healthy() const = 0;             // the processing loop has not failed
  virtual std::string model_version() const = 0;
};

}  // namespace leadscore::server
