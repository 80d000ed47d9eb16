// The report as JSON (nlohmann): the same numbers as the text, for dashboards and tests.
#include <nlohmann/json.hpp>

#include "report/report.h"

namespace leadscore::report {
namespace {

using nlohmann::json;

json IntervalJson(const Interval& i) { return {{"low", i.low}, {"high", i.high}}; }

json OutcomeJson(const codec::WireOutcome& o) {
  return {{"routing_id", o.routing_id}, {"lead_id", o.lead_id},     {"account_id", o.account_id},
          {"kind", KindName(o.kind)},   {"reason", o.reason},       {"amount", o.amount},
          {"occurred_at_ms", o.occurred_at_ms}};
}

}  // namespace

std::string ToJson(const Report& r) {
  json j;
  j["model_version"] = r.model_version;
  j["routing_events"] = r.routing_events;
  j["outcomes"] = {{"total", r.outcomes},
                   {"matched_by_routing_id", r.matched_by_routing_id},
                   {"matched_by_time", r.matched_by_time},
                   {"unmatched", r.unmatched.size()}};
  j["unmatched_outcomes"] = json::array();
  for (const auto& o : r.unmatched) j["unmatched_outcomes"].push_back(OutcomeJson(o));
  j["versions"] = json::array();
  for (const auto& c : r.versions) {
    json v{{"model_version", c.model_version}, {"up_events", c.up_events}, {"down_events", c.down_events}};
    v["tiers"] = json::array();
    for (const auto& t : c.tiers) {
      json row{{"entity", t.entity},
               {"tier", t.tier},
               {"routed", t.routed},
               {"answered", t.answered},
               {"accepted", t.accepted},
               {"rejected", t.rejected},
               {"rejection_reasons", t.rejection_reasons},
               {"opportunities", t.opportunities},
               {"won", t.won},
               {"lost", t.lost},
               {"conversion", t.conversion},
               {"conversion_interval", IntervalJson(t.conversion_interval)},
               {"median_hours_to_first_answer", nullptr},
               {"with_sla", t.with_sla},
               {"sla_met", t.sla_met},
               {"small_sample", t.small}};
      if (t.median_hours_to_first_answer) row["median_hours_to_first_answer"] = *t.median_hours_to_first_answer;
      v["tiers"].push_back(std::move(row));
    }
    v["factors"] = json::array();
    for (const auto& f : c.factors) {
      json row{{"entity", f.entity},
               {"name", f.name},
               {"kind", f.kind},
               {"with", f.with},
               {"won_with", f.won_with},
               {"without", f.without},
               {"won_without", f.won_without},
               {"conversion_with", f.conversion_with},
               {"conversion_without", f.conversion_without},
               {"lift", nullptr},
               {"lift_interval", nullptr},
               {"small_sample", f.small}};
      if (f.lift) {
        row["lift"] = f.lift->value;
        row["lift_interval"] = IntervalJson(f.lift->interval);
      }
      v["factors"].push_back(std::move(row));
    }
    v["score_bands"] = json::array();
    for (const auto& b : c.bands) {
      v["score_bands"].push_back({{"entity", b.entity},
                                  {"from", b.from},
                                  {"to", b.to},
                                  {"routed", b.routed},
                                  {"won", b.won},
                                  {"conversion", b.conversion},
                                  {"conversion_interval", IntervalJson(b.conversion_interval)},
                                  {"small_sample", b.small}});
    }
    j["versions"].push_back(std::move(v));
  }
  if (r.suggestion) {
    const Suggestion& s = *r.suggestion;
    json sj{{"fitted_on", s.fitted_on},       {"train_events", s.train_events}, {"train_won", s.train_won}, {"test_events", s.test_events}, {"deals", s.deals}, {"deals_won", s.deals_won}, {"deals_used", s.deals_used},
            {"l2", s.l2},                     {"notes", s.notes},         {"draft_yaml", s.draft_yaml},
            {"fit_kept", s.fit_kept},         {"headroom_scale", s.headroom_scale}};
    sj["min_intents"] = json::object();
    for (const auto& [tier, min_intent] : s.min_intents) sj["min_intents"][tier] = min_intent;
    sj["gates_refit"] = s.gates_refit;
    sj["min_fits"] = json::object();
    for (const auto& [tier, min_fit] : s.min_fits) sj["min_fits"][tier] = min_fit;
    sj["points"] = json::array();
    for (const auto& p : s.points) {
      sj["points"].push_back({{"name", p.name},
                              {"kind", p.kind},
                              {"current", p.current},
                              {"suggested", p.suggested},
                              {"coefficient", p.coefficient}});
    }
    sj["tiers"] = json::array();
    for (const auto& t : s.tiers) {
      sj["tiers"].push_back({{"name", t.name},
                             {"current_min_score", t.current_min_score},
                             {"suggested_min_score", t.suggested_min_score},
                             {"target_conversion", t.target_conversion},
                             {"train_volume", t.train_volume},
                             {"draft_train_volume", t.draft_train_volume}});
    }
    const HeldOutCheck& h = s.held_out;
    sj["held_out"] = {{"events", h.events},
                      {"won", h.won},
                      {"volume", h.volume},
                      {"running", {{"precision", h.running_precision}, {"recall", h.running_recall}}},
                      {"draft", {{"precision", h.draft_precision}, {"recall", h.draft_recall}}}};
    sj["held_out"]["wider"] = json::array();
    for (const auto& w : h.wider) {
      sj["held_out"]["wider"].push_back(
          {{"volume", w.volume},
           {"running", {{"precision", w.running_precision}, {"recall", w.running_recall}}},
           {"draft", {{"precision", w.draft_precision}, {"recall", w.draft_recall}}}});
    }
    if (s.replayed) {
      const ReplayedCheck& c = *s.replayed;
      sj["replayed"] = {{"split_ms", c.split_ms},
                        {"running_routed", c.running_routed},
                        {"draft_routed", c.draft_routed},
                        {"running_priority", c.running_priority},
                        {"draft_priority", c.draft_priority},
                        {"at", json::array()}};
      for (const auto& a : c.at) {
        sj["replayed"]["at"].push_back({{"volume_of", a.volume_of},
                                        {"volume", a.volume},
                                        {"running_converted", a.running_converted},
                                        {"draft_converted", a.draft_converted}});
      }
    }
    j["suggestion"] = std::move(sj);
  }
  return j.dump(2);
}

}  // namespace leadscore::report
