#include "report/calibration.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "report/report.h"

namespace leadscore::report {

std::string_view KindName(codec::WireOutcomeKind kind) {
  switch (kind) {
    case codec::WireOutcomeKind::kAccepted: return "ACCEPTED";
    case codec::WireOutcomeKind::kRejected: return "REJECTED";
    case codec::WireOutcomeKind::kOpportunityCreated: return "OPPORTUNITY_CREATED";
    case codec::WireOutcomeKind::kClosedWon: return "CLOSED_WON";
    case codec::WireOutcomeKind::kClosedLost: return "CLOSED_LOST";
    case codec::WireOutcomeKind::kUnspecified: break;
  }
  return "KIND_UNSPECIFIED";
}

std::vector<Answer> Summarize(const std::vector<engine::RoutingEvent>& routed,
                              const std::vector<codec::WireOutcome>& outcomes, const Joined& joined) {
  std::vector<Answer> out(routed.size());
  for (size_t i = 0; i < routed.size(); ++i) {
    Answer& a = out[i];
    for (size_t o : joined.answers[i]) {
      const auto& oc = outcomes[o];
      if (!a.answered) a.first_answer_ms = oc.occurred_at_ms;  // answers are in time order
      a.answered = true;
      switch (oc.kind) {
        case codec::WireOutcomeKind::kAccepted: a.accepted = true; break;
        case codec::WireOutcomeKind::kRejected: a.rejected = true; break;
        case codec::WireOutcomeKind::kOpportunityCreated: a.opportunity = true; break;
        case codec::WireOutcomeKind::kClosedWon: a.won = true; break;
        case codec::WireOutcomeKind::kClosedLost: a.lost = true; break;
        case codec::WireOutcomeKind::kUnspecified: break;
      }
    }
    // A deal lost and then won again is won.
    if (a.won) a.lost = false;
  }
  return out;
}

namespace {

std::string EntityName(engine::EntityKind k) { return k == engine::EntityKind::kLead ? "lead" : "account"; }

double Share(uint64_t x, uint64_t n) { return n ? static_cast<double>(x) / static_cast<double>(n) : 0; }

Calibration Calibrate(const model::Model& model, const std::string& version,
                      const std::vector<engine::RoutingEvent>& routed, const std::vector<codec::WireOutcome>& outcomes,
                      const Joined& joined, const std::vector<Answer>& answers, const ReportOptions& options) {
  Calibration c;
  c.model_version = version;
  std::vector<size_t> up;
  for (size_t i = 0; i < routed.size(); ++i) {
    if (routed[i].model_version != version) continue;
    if (routed[i].direction == engine::Direction::kUp) {
      up.push_back(i);
    } else {
      ++c.down_events;
    }
  }
  c.up_events = up.size();

  // Tiers: the model's, highest first, leads then accounts, without the lowest (nothing
  // is routed up into it); then any tier the events name that the model lacks.
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto* tiers : {&model.lead.tiers, &model.account.tiers}) {
    const std::string entity = tiers == &model.lead.tiers ? "lead" : "account";
    for (size_t t = 0; t + 1 < tiers->size(); ++t) order.emplace_back(entity, (*tiers)[t].name);
  }
  for (size_t i : up) {
    std::pair<std::string, std::string> key{EntityName(routed[i].entity), routed[i].to_tier};
    if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
  }
  for (const auto& [entity, tier] : order) {
    TierRow row;
    row.entity = entity;
    row.tier = tier;
    std::vector<double> hours;
    for (size_t i : up) {
      const auto& ev = routed[i];
      if (EntityName(ev.entity) != entity || ev.to_tier != tier) continue;
      const Answer& a = answers[i];
      ++row.routed;
      row.answered += a.answered;
      row.accepted += a.accepted;
      row.rejected += a.rejected;
      row.opportunities += a.opportunity;
      row.won += a.won;
      row.lost += a.lost;
      for (size_t o : joined.answers[i]) {
        if (outcomes[o].kind != codec::WireOutcomeKind::kRejected) continue;
        ++row.rejection_reasons[outcomes[o].reason.empty() ? "(none)" : outcomes[o].reason];
      }
      if (a.answered) hours.push_back(static_cast<double>(a.first_answer_ms - ev.occurred_at_ms) / 3.6e6);
      if (ev.sla_due_at_ms > 0) {
        ++row.with_sla;
        row.sla_met += a.answered && a.first_answer_ms <= ev.sla_due_at_ms;
      }
    }
    row.conversion = Share(row.won, row.routed);
    row.conversion_interval = Wilson(row.won, row.routed);
    row.median_hours_to_first_answer = Median(std::move(hours));
    row.small = row.routed < options.small_sample;
    c.tiers.push_back(std::move(row));
  }

  // Factors: per entity kind, the model's signals then its fit rules, then other names
  // the events list (in the order first seen).
  for (const engine::EntityKind kind : {engine::EntityKind::kLead, engine::EntityKind::kAccount}) {
    std::vector<size_t> of_kind;
    for (size_t i : up) {
      if (routed[i].entity == kind) of_kind.push_back(i);
    }
    if (of_kind.empty()) continue;
    std::vector<std::pair<std::string, std::string>> names;  // name, kind
    for (const auto& s : model.signals) names.emplace_back(s.name, "signal");
    for (const auto& r : model.fit_rules) names.emplace_back(r.name, "fit_rule");
    std::set<std::string> listed;
    for (size_t i : of_kind) {
      for (const auto& f : routed[i].factors) listed.insert(f.name);
    }
    for (size_t i : of_kind) {
      for (const auto& f : routed[i].factors) {
        const bool known = std::any_of(names.begin(), names.end(), [&](const auto& n) { return n.first == f.name; });
        if (!known) names.emplace_back(f.name, "other");
      }
    }
    for (const auto& [name, what] : names) {
      if (!listed.contains(name)) continue;  // never among any event's factors: nothing to compare
      FactorRow row;
      row.entity = EntityName(kind);
      row.name = name;
      row.kind = what;
      for (size_t i : of_kind) {
        const auto& fs = routed[i].factors;
        const bool has = std::any_of(fs.begin(), fs.end(), [&](const engine::Factor& f) { return f.name == name; });
        (has ? row.with : row.without) += 1;
        (has ? row.won_with : row.won_without) += answers[i].won;
      }
      row.conversion_with = Share(row.won_with, row.with);
      row.conversion_without = Share(row.won_without, row.without);
      row.lift = KatzRatio(row.won_with, row.with, row.won_without, row.without);
      row.small = row.with < options.small_sample || row.without < options.small_sample;
      c.factors.push_back(std::move(row));
    }

    // Score bands.
    const double w = options.band_width > 0 ? options.band_width : 10;
    const int bands = static_cast<int>(std::ceil(100 / w));
    std::vector<BandRow> rows(static_cast<size_t>(bands));
    for (int b = 0; b < bands; ++b) {
      rows[b].entity = EntityName(kind);
      rows[b].from = b * w;
      rows[b].to = std::min(100.0, (b + 1) * w);
    }
    for (size_t i : of_kind) {
      const int b = std::clamp(static_cast<int>(std::floor(routed[i].score / w)), 0, bands - 1);
      ++rows[b].routed;
      rows[b].won += answers[i].won;
    }
    for (auto& r : rows) {
      r.conversion = Share(r.won, r.routed);
      r.conversion_interval = Wilson(r.won, r.routed);
      r.small = r.routed < options.small_sample;
      c.bands.push_back(r);
    }
  }
  return c;
}

}  // namespace

namespace {

// Everything after the join, whoever joined.
Report Assemble(const model::Model& model, const std::vector<engine::RoutingEvent>& routed,
                const std::vector<codec::WireOutcome>& outcomes, const Joined& joined, const ReportOptions& options) {
  Report r;
  r.model_version = model.version;
  r.routing_events = routed.size();
  r.outcomes = outcomes.size();
  r.matched_by_routing_id = joined.by_routing_id;
  r.matched_by_time = joined.by_time;
  for (size_t o : joined.unmatched) r.unmatched.push_back(outcomes[o]);
  const std::vector<Answer> answers = Summarize(routed, outcomes, joined);
  std::vector<std::string> versions;
  for (const auto& ev : routed) {
    if (std::find(versions.begin(), versions.end(), ev.model_version) == versions.end()) {
      versions.push_back(ev.model_version);
    }
  }
  if (versions.empty()) versions.push_back(model.version);
  for (const auto& v : versions) r.versions.push_back(Calibrate(model, v, routed, outcomes, joined, answers, options));
  return r;
}

}  // namespace

Report BuildReport(const model::Model& model, const std::vector<engine::RoutingEvent>& routed,
                   const std::vector<codec::WireOutcome>& outcomes, const ReportOptions& options) {
  return Assemble(model, routed, outcomes, Join(routed, outcomes), options);
}

Report BuildReportFromJoined(const model::Model& model, const std::vector<codec::RoutingSnapshot>& routed,
                             const std::vector<codec::WireOutcome>& unmatched, const ReportOptions& options) {
  std::vector<engine::RoutingEvent> events;
  std::vector<codec::WireOutcome> outcomes;
  Joined joined;
  events.reserve(routed.size());
  joined.answers.resize(routed.size());
  for (size_t i = 0; i < routed.size(); ++i) {
    events.push_back(routed[i].event);
    for (const auto& o : routed[i].outcomes) {
      joined.answers[i].push_back(outcomes.size());
      ++(o.routing_id.empty() ? joined.by_time : joined.by_routing_id);
      outcomes.push_back(o);
    }
    // By occurred_at_ms, as Join leaves them (they are kept in the order applied).
    std::stable_sort(joined.answers[i].begin(), joined.answers[i].end(),
                     [&](size_t x, size_t y) { return outcomes[x].occurred_at_ms < outcomes[y].occurred_at_ms; });
  }
  for (const auto& o : unmatched) {
    joined.unmatched.push_back(outcomes.size());
    outcomes.push_back(o);
  }
  return Assemble(model, events, outcomes, joined, options);
}

}  // namespace leadscore::report
