// What the HTTP server serves, as an interface: the streaming service implements it,
// tests may give a fake. Every method is called from the server's threads at any time
// and must not wait for a processing batch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "common/status.h"
#include "engine/engine.h"
#include "model/model.h"

namespace leadscore::server {

enum class ReportFormat { kJson, kHtml };

// What a model change would do (PUT /v1/model?dry_run=true): every entity of the
// committed state evaluated under the draft, counted by kind and by the tier it is in
// now and the tier it would be in (from == to: it stays).
struct TierMoves {
  std::string from_version, to_version;
  struct Cell {
    std::string entity;  // "lead" | "account"
    std::string from, to;
    uint64_t count = 0;
    bool operator==(const Cell&) const = default;
  };
  std::vector<Cell> cells;  // by entity, from, to
  uint64_t leads = 0, accounts = 0;
  uint64_t moved() const {
    uint64_t n = 0;
    for (const auto& c : cells) n += c.from == c.to ? 0 : c.count;
    return n;
  }
};

// The running model as GET /v1/model shows it.
struct ModelInfo {
  std::string version;
  std::string yaml;         // as it was loaded (the file, or the body of the PUT)
  int64_t loaded_at_ms = 0; // wall time it was accepted
  int pending_partitions = 0;  // assigned partitions not re-evaluated under it yet
};

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

  // GET /v1/model, PUT /v1/model (SPEC section 3, "Changing the model"). `model` is
  // valid (the server loaded it and refused it with every problem otherwise); `yaml` is
  // its text, for GET. ChangeModel accepts the change and returns: the partitions are
  // re-evaluated one at a time by the processing loop (progress in the metrics). The
  // defaults: a backend that cannot change its model.
  virtual ModelInfo RunningModel() const {
    ModelInfo info;
    info.version = model_version();
    return info;
  }
  virtual Status ChangeModel(std::shared_ptr<const model::Model> model, std::string yaml) {
    (void)model;
    (void)yaml;
    return Status::Unavailable("this backend cannot change its model");
  }
  virtual Result<TierMoves> DryRunModel(std::shared_ptr<const model::Model> model) const {
    (void)model;
    return Status::Unavailable("this backend cannot change its model");
  }
};

}  // namespace leadscore::server
