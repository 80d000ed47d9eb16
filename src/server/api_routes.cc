#include "server/api_routes.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "model/model.h"

namespace leadscore::server {
namespace {

using Json = nlohmann::ordered_json;

// The protobuf JSON mapping, as the routing events on the topic are written
// (codec::ToJson): int64 as a string, doubles at full precision (shortest text that
// reads back to the same double), a whole double without ".0" (protobuf prints 80, not
// 80.0), and no number for what JSON cannot say (NaN, infinities: null).
Json Int64(int64_t v) { return std::to_string(v); }
Json Double(double v) {
  if (!std::isfinite(v)) return nullptr;
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) return static_cast<int64_t>(v);  // 2^53: exact
  return v;
}

std::string ToJson(const engine::EntityView& v, bool lead, const std::string& model_version) {
  Json o;
  o[lead ? "lead_id" : "account_id"] = v.id;
  if (lead) o["account_id"] = v.account_id;
  o["fit"] = Double(v.fit);
  o["grade"] = v.grade;
  o["intent"] = Double(v.intent);
  o["score"] = Double(v.score);
  o["tier"] = v.tier;
  o["disqualified"] = v.disqualified;
  if (v.suppressed_until_ms) o["suppressed_until_ms"] = Int64(v.suppressed_until_ms);
  Json factors = Json::array();
  for (const auto& f : v.factors) {
    factors.push_back({{"name", f.name}, {"points", Double(f.points)}, {"count", f.count}, {"last_at_ms", Int64(f.last_at_ms)}});
  }
  o["factors"] = std::move(factors);
  if (!lead) {
    o["committee"] = {{"roles", v.committee_roles}, {"coverage", Double(v.coverage)}, {"engaged_contacts", v.engaged_contacts}};
    o["leads"] = v.lead_count;
  }
  Json changes = Json::array();
  for (const auto& c : v.recent_changes) {
    changes.push_back({{"from_tier", c.from_tier}, {"to_tier", c.to_tier}, {"at_ms", Int64(c.at_ms)}, {"routing_id", c.routing_id}});
  }
  o["recent_changes"] = std::move(changes);
  o["model_version"] = model_version;
  o["as_of_ms"] = Int64(v.as_of_ms);
  // Ids come from the records as they were sent: bytes that are not UTF-8 become U+FFFD
  // rather than an exception.
  return o.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Response JsonResponse(int status, std::string body) {
  return {.status = status, .content_type = "application/json", .body = std::move(body), .headers = {}};
}

Response Text(int status, std::string body) {
  return {.status = status, .content_type = "text/plain", .body = std::move(body), .headers = {}};
}

Router::Handler View(const Backend* backend, bool lead) {
  return [backend, lead](const Request&, const std::string& id) {
    // Until partitions are assigned and resumed, "no such lead" would be a guess.
    if (!backend->Ready()) {
      return JsonResponse(503, Json{{"error", "not ready: no partitions assigned or state not resumed"}}.dump());
    }
    auto v = lead ? backend->ViewLead(id) : backend->ViewAccount(id);
    if (!v) return JsonResponse(404, Json{{"error", std::string("no such ") + (lead ? "lead" : "account")}}.dump());
    return JsonResponse(200, ToJson(*v, lead, backend->model_version()));
  };
}

Response NotReady() {
  return JsonResponse(503, Json{{"error", "not ready: no partitions assigned or state not resumed"}}.dump());
}

Response StateError(const Status& why) {
  return JsonResponse(500, Json{{"error", why.message()}}.dump(-1, ' ', false, Json::error_handler_t::replace));
}

// The routing event exactly as the output topic's json format has it (codec::ToJson),
// and the outcomes that answered it in the same mapping, in the order they were applied.
std::string ToJson(const codec::RoutingSnapshot& s) {
  Json outcomes = Json::array();
  for (const auto& o : s.outcomes) outcomes.push_back(Json::parse(codec::OutcomeToJson(o), nullptr, false));
  Json o;
  o["routing_event"] = Json::parse(codec::ToJson(s.event), nullptr, false);
  o["outcomes"] = std::move(outcomes);
  return o.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Whether the query asks for `key=value` (no decoding: the values asked for are plain).
bool QueryHas(std::string_view query, std::string_view pair) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    if (query.substr(0, amp) == pair) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// GET /v1/model: JSON with the YAML in it (`?format=yaml`: the YAML alone, its version
// in a header). Public, like the views: the version is on every view and in /metrics
// already, and the model holds no secret (leadscore.yaml's secrets are not in it).
Response GetModel(const Backend& backend, const Request& request) {
  const ModelInfo m = backend.RunningModel();
  if (QueryHas(request.query, "format=yaml")) {
    return {.status = 200, .content_type = "application/yaml", .body = m.yaml, .headers = {{"X-Model-Version", m.version}}};
  }
  Json o;
  o["model_version"] = m.version;
  o["loaded_at_ms"] = Int64(m.loaded_at_ms);
  o["reevaluating_partitions"] = m.pending_partitions;
  o["yaml"] = m.yaml;
  return JsonResponse(200, o.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Json MovesJson(const TierMoves& moves) {
  Json cells = Json::array();
  for (const auto& c : moves.cells) cells.push_back({{"entity", c.entity}, {"from_tier", c.from}, {"to_tier", c.to}, {"count", c.count}});
  Json o;
  o["dry_run"] = true;
  o["from_version"] = moves.from_version;
  o["to_version"] = moves.to_version;
  o["leads"] = moves.leads;
  o["accounts"] = moves.accounts;
  o["moved"] = moves.moved();
  o["matrix"] = std::move(cells);
  return o;
}

// PUT /v1/model: the body is the model's YAML. Invalid: 422 with every problem the
// loader found (line numbers as it gives them), and the running model stays. Dry run:
// the tier moves it would cause, nothing changed. Else the change is accepted (202) and
// the partitions are re-evaluated one at a time (GET /v1/model and the metrics say how far).
Response PutModel(Backend& backend, const Request& request) {
  const model::LoadResult loaded = model::LoadModelFromString(request.body);
  if (!loaded.ok()) {
    Json problems = Json::array();
    for (const auto& p : loaded.problems) problems.push_back({{"line", p.line}, {"message", p.message}});
    return JsonResponse(422, Json{{"error", "model refused: the running model stays"}, {"problems", std::move(problems)}}
                                 .dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  Json warnings = Json::array();
  for (const auto& w : loaded.warnings) warnings.push_back({{"line", w.line}, {"message", w.message}});
  if (QueryHas(request.query, "dry_run=true")) {
    auto moves = backend.DryRunModel(loaded.model);
    if (!moves.ok()) return JsonResponse(503, Json{{"error", moves.status().message()}}.dump(-1, ' ', false, Json::error_handler_t::replace));
    Json o = MovesJson(*moves);
    o["warnings"] = std::move(warnings);
    return JsonResponse(200, o.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  const std::string previous = backend.model_version();
  Status changed = backend.ChangeModel(loaded.model, request.body);
  if (!changed.ok()) return JsonResponse(503, Json{{"error", changed.message()}}.dump(-1, ' ', false, Json::error_handler_t::replace));
  const bool same = previous == loaded.model->version;
  Json o;
  o["model_version"] = loaded.model->version;
  o["previous_version"] = previous;
  o["changed"] = !same;
  o["reevaluating_partitions"] = backend.RunningModel().pending_partitions;
  o["warnings"] = std::move(warnings);
  return JsonResponse(same ? 200 : 202, o.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace

Router ApiRouter(Backend* backend) {
  Router r;
  if (!backend) return r;
  // The path is percent-decoded before it is matched: an id with a '/' (sent as %2F)
  // is everything after the prefix.
  r.Prefix("GET", "/v1/leads/", Access::kPublic, View(backend, true));
  r.Prefix("GET", "/v1/accounts/", Access::kPublic, View(backend, false));
  r.Prefix("GET", "/v1/routings/", Access::kPublic, [backend](const Request&, const std::string& id) {
    if (!backend->Ready()) return NotReady();
    auto found = backend->ViewRouting(id);
    if (!found.ok()) return StateError(found.status());
    if (!*found) return JsonResponse(404, Json{{"error", "no such routing event"}}.dump());
    return JsonResponse(200, ToJson(**found));
  });
  r.Exact("GET", "/v1/report", Access::kPublic, [backend](const Request& request, const std::string&) {
    if (!backend->Ready()) return NotReady();
    const bool html = QueryHas(request.query, "format=html");
    auto report = backend->CalibrationReport(html ? ReportFormat::kHtml : ReportFormat::kJson);
    if (!report.ok()) return StateError(report.status());
    if (!html) return JsonResponse(200, std::move(*report));
    return Response{.status = 200, .content_type = "text/html; charset=utf-8", .body = std::move(*report), .headers = {}};
  });
  r.Exact("GET", "/v1/model", Access::kPublic,
          [backend](const Request& request, const std::string&) { return GetModel(*backend, request); });
  r.Exact("PUT", "/v1/model", Access::kAdmin,
          [backend](const Request& request, const std::string&) { return PutModel(*backend, request); });
  r.Exact("GET", "/metrics", Access::kPublic, [backend](const Request&, const std::string&) {
    return Response{.status = 200, .content_type = "text/plain; version=0.0.4", .body = backend->MetricsText(), .headers = {}};
  });
  r.Exact("GET", "/healthz", Access::kPublic, [backend](const Request&, const std::string&) {
    const bool healthy = backend->Healthy();
    return Text(healthy ? 200 : 503, healthy ? "ok\n" : "processing failed\n");
  });
  r.Exact("GET", "/readyz", Access::kPublic, [backend](const Request&, const std::string&) {
    const bool ready = backend->Ready();
    return Text(ready ? 200 : 503, ready ? "ready\n" : "not ready: no partitions assigned or state not restored\n");
  });
  return r;
}

}  // namespace leadscore::server
