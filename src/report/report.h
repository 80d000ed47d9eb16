// The calibration report (SPEC section 7): routing events and the sales outcomes that
// answered them (joined per SPEC section 2), checked against each other per model
// version: per tier, per signal and fit rule, per score band; as text, JSON and a
// self-contained HTML page; and a suggested draft model fitted to the outcomes.
//
// Data flows one way: routing events and outcomes in (from a replay, or already joined
// from a service's state), numbers out. Nothing here knows Kafka, the store or the
// service. Pure functions of their inputs; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "engine/engine.h"
#include "model/model.h"
#include "report/stats.h"

namespace leadscore::report {

struct ReportOptions {
  uint64_t small_sample = 30;  // a row with fewer routing events (either side of a lift) is flagged small
  double band_width = 10;      // score bands [0, 10), [10, 20), ... [90, 100]
};

// One tier of one entity kind: the UP routing events into it and what sales did.
struct TierRow {
  std::string entity;  // "lead" | "account"
  std::string tier;
  uint64_t routed = 0;     // UP routing events into the tier
  uint64_t answered = 0;   // ... with at least one outcome
  uint64_t accepted = 0, rejected = 0, opportunities = 0, won = 0, lost = 0;  // ... with one of that kind (lost: and not won)
  std::map<std::string, uint64_t> rejection_reasons;  // REJECTED outcomes by reason ("" -> "(none)")
  double conversion = 0;   // won / routed
  Interval conversion_interval;  // Wilson 95 %
  std::optional<double> median_hours_to_first_answer;
  uint64_t with_sla = 0;   // routed with sla_due_at_ms > 0
  uint64_t sla_met = 0;    // ... whose first answer came at or before sla_due_at_ms
  bool small = false;      // routed < small_sample
};

// A signal or fit rule: conversion of the routing events that listed it among their
// factors (the top 5 with |points| >= 0.01) against those that did not.
struct FactorRow {
  std::string entity;
  std::string name;
  std::string kind;  // "signal" | "fit_rule" | "other" (a feedback kind, a name the model lacks)
  uint64_t with = 0, won_with = 0, without = 0, won_without = 0;
  double conversion_with = 0, conversion_without = 0;
  std::optional<Ratio> lift;  // conversion_with / conversion_without, Katz 95 %
  bool small = false;         // with or without < small_sample
};

struct BandRow {
  std::string entity;
  double from = 0, to = 0;  // score in [from, to); the last band includes 100
  uint64_t routed = 0, won = 0;
  double conversion = 0;
  Interval conversion_interval;
  bool small = false;
};

struct Calibration {
  std::string model_version;
  uint64_t up_events = 0, down_events = 0;  // DOWN events are not routings to sales: not counted per tier
  std::vector<TierRow> tiers;
  std::vector<FactorRow> factors;
  std::vector<BandRow> bands;
};

// The draft model fitted to the outcomes (suggest.h) and how it does on held-out events.
struct SuggestedPoints {
  std::string name, kind;  // kind: "signal" | "fit_rule"
  double current = 0, suggested = 0;
  double coefficient = 0;  // the regression's, in log-odds per point of the current model
};
struct SuggestedTier {
  std::string name;
  double current_min_score = 0, suggested_min_score = 0;
  // The running model's: the share of the tier's older answered routings whose lead
  // converted (made to rise with the tier); 0 for the lowest tier routed, which keeps
  // its minimum (the answered routings hold nothing below it to place it by).
  double target_conversion = 0;
  // Set by volume instead (SetTiersByVolume): the leads the running model routed into
  // this tier or above before the split, which the draft's minimum matches there; 0 when
  // the minimum was not set by volume.
  uint64_t train_volume = 0, draft_train_volume = 0;
};
// Both models pick `volume` of the held-out routings, each its highest scores.
struct HeldOutAt {
  uint64_t volume = 0;
  double running_precision = 0, running_recall = 0;
  double draft_precision = 0, draft_recall = 0;
};
// Held out: the newest 30 % of answered lead routings; "won" is the lead converting
// (a CLOSED_WON joined to this routing or a later one of the same lead).
struct HeldOutCheck {
  uint64_t events = 0, won = 0, volume = 0;  // volume: how many the running model routed above its lowest routed tier
  double running_precision = 0, running_recall = 0;
  double draft_precision = 0, draft_recall = 0;
  std::vector<HeldOutAt> wider;  // the same at 10, 20 and 30 % of the held-out routings
  int64_t split_ms = 0;          // when the first held-out routing happened
};
// The held-out period replayed: both models replayed over the whole input (the draft
// routes its own leads), compared on the leads each routed UP into a tier above the
// lowest after `split_ms`. A lead converted when a CLOSED_WON of it came at or after its
// first such routing. Each model ranks its routed leads by the highest tier they
// reached, then their highest score at a routing; both pick the same number.
struct ReplayedAt {
  std::string volume_of;  // "routed" (all the running model routed) | "priority" (to its tiers above the lowest routed)
  uint64_t volume = 0;    // the running model's count, or the draft's when it routed fewer
  uint64_t running_converted = 0, draft_converted = 0;
};
struct ReplayedCheck {
  int64_t split_ms = 0;
  uint64_t running_routed = 0, draft_routed = 0;      // leads routed after the split
  uint64_t running_priority = 0, draft_priority = 0;  // of them, into the tiers above the lowest routed
  std::vector<ReplayedAt> at;
};
struct Suggestion {
  // "routings": fitted on the older answered lead routing events (their factors);
  // "lead states": on every lead's state at fixed times of the running model's replay
  // before the split (LeadSamples): P(opportunity within 28 days) x P(won | deal),
  // every label from outcomes before the split.
  std::string fitted_on = "routings";
  uint64_t train_events = 0, train_won = 0, test_events = 0;  // train_*: rows fitted on
  // Lead states: train_* are stage (A)'s looks (train_won: with an opportunity within
  // kOpportunityHorizonDays); deals: stage (B)'s deals opened and closed before the
  // split, deals_won of them won; deals_used: (B) was fitted (enough of both ends).
  uint64_t deals = 0, deals_won = 0;
  bool deals_used = false;
  double l2 = 0;  // chosen by 5-fold cross-validation on the training routings
  // Lead states: the factor every fitted point was shrunk by so that no training look's
  // draft fit or intent passes 100, where the clamp would tie the top leads (1: none).
  double headroom_scale = 1;
  // Lead states without enough closed deals to fit what wins (stage B): the fit rules
  // keep their points and the tiers their min_fit; each min_intent moves to the draft's
  // intent that admits the same share of training looks (min_intents, tier -> value).
  bool fit_kept = false;
  std::vector<std::pair<std::string, double>> min_intents;
  // Lead states with stage (B) (the fit axis fitted): the gated tiers keep min_fit and
  // min_intent rather than drop them, each moved to the draft's fit (min_fits) or intent
  // (min_intents) that admits the same share of training looks as the running model's.
  bool gates_refit = false;
  std::vector<std::pair<std::string, double>> min_fits;
  std::vector<SuggestedPoints> points;
  std::vector<SuggestedTier> tiers;
  HeldOutCheck held_out;
  std::optional<ReplayedCheck> replayed;  // when the caller replayed the draft (AddReplayedCheck)
  std::string draft_yaml;  // a model that `validate` accepts
  std::vector<std::string> notes;  // why something was left as it was
};

struct Report {
  std::string model_version;  // the model the report was asked with
  uint64_t routing_events = 0;
  uint64_t outcomes = 0, matched_by_routing_id = 0, matched_by_time = 0;
  std::vector<codec::WireOutcome> unmatched;  // kept, for whoever has to find them a home
  std::vector<Calibration> versions;          // one per model_version seen in the routing events
  std::optional<Suggestion> suggestion;
};

// `routed`: in the order they happened. Outcomes in any order.
Report BuildReport(const model::Model& model, const std::vector<engine::RoutingEvent>& routed,
                   const std::vector<codec::WireOutcome>& outcomes, const ReportOptions& options = {});

// The same report over routing events already joined to the outcomes that answered
// them (a service's state joins each outcome as it arrives: codec::RoutingSnapshot),
// `routed` in the order they happened, and the outcomes that answered none. An outcome
// with a routing_id counts as matched by it, one without as matched by time.
Report BuildReportFromJoined(const model::Model& model, const std::vector<codec::RoutingSnapshot>& routed,
                             const std::vector<codec::WireOutcome>& unmatched, const ReportOptions& options = {});

// Stage (A) of the lead-state fit: a look is labelled by an opportunity of the lead
// within this many days after it, and only looks whose window ends before the split
// are fitted (the market answers a noticed lead within 72 h and opens the deal then).
inline constexpr int64_t kOpportunityHorizonDays = 28;

// Every lead's state at fixed times of a replay of the running model (the CLI takes it,
// so nothing here runs a stream): the points each signal (decayed, capped) and fit rule
// gave the lead then, one column per SuggestColumns(model). A population the running
// model did not select, unlike its routing snapshots (leads routed when their score
// crossed a minimum).
struct LeadSamples {
  struct Row {
    uint32_t lead = 0;  // index into `leads`
    int64_t at_ms = 0;  // the stream time of the look
    std::vector<float> points;
  };
  std::vector<std::string> leads;
  std::vector<Row> rows;
};
// The regression's columns: the model's signals, then its fit rules, by name.
std::vector<std::string> SuggestColumns(const model::Model& model);

// Fits the suggestion (suggest.h) into `report` from the same routing events and
// outcomes; `model_yaml` is the running model's text, which the draft edits. An error
// when there is nothing to fit (no answered lead routing events, no win). Every label
// comes from the outcomes before the split only (the checks use them all). With
// `samples`, the points are fitted on the lead states taken before the split (labels:
// an opportunity within kOpportunityHorizonDays, window wholly before the split; and
// won or lost for deals opened and closed before it) rather than on the routing
// snapshots; the split and the re-scored check are the same. On lead
// states the regression holds the model's signs: a column fitted against its sign is
// dropped and the rest fitted again, and the factor gets the least points the model
// allows (the fit says it does not help).
Status AddSuggestion(const model::Model& model, const std::string& model_yaml,
                     const std::vector<engine::RoutingEvent>& routed, const std::vector<codec::WireOutcome>& outcomes,
                     Report* report, const LeadSamples* samples = nullptr);

// The probe for SetTiersByVolume: the suggestion's draft with its lead tiers replaced
// by one every half point (hysteresis 100: a lead never goes down), so a replay of it
// tells the highest draft score each lead reached, to the half point.
Result<std::string> ProbeYaml(const Suggestion& suggestion);

// The draft's lead tier minimums set by volume: each tier above the lowest one the
// running model routes into gets the lowest half point at which the draft, replayed as
// `probe` (ProbeYaml) before the split, routes no more leads into it or above than the
// running model did into the same tier or above (`running_routed`, its replay). With
// the fit axis kept or the gates refitted (fit_kept, gates_refit) the tiers keep
// min_fit and min_intent and the probe counts a lead only at a level where it met them;
// otherwise the draft's tiers drop min_fit and min_intent (it ranks by score alone).
// Rewrites the suggestion's draft_yaml and tiers.
Status SetTiersByVolume(const model::Model& running, const std::vector<engine::RoutingEvent>& running_routed,
                        const model::Model& probe, const std::vector<engine::RoutingEvent>& probe_routed,
                        Report* report);

// The replayed check (ReplayedCheck) into `report->suggestion`, split where its held-out
// routings start: `running_routed` and `draft_routed` are each model's replay of the
// same input, `draft` the model loaded from the suggestion's draft_yaml.
void AddReplayedCheck(const model::Model& running, const model::Model& draft,
                      const std::vector<engine::RoutingEvent>& running_routed,
                      const std::vector<engine::RoutingEvent>& draft_routed,
                      const std::vector<codec::WireOutcome>& outcomes, Report* report);

std::string ToText(const Report& report);
std::string ToJson(const Report& report);  // pretty-printed, nlohmann json
std::string ToHtml(const Report& report);  // one self-contained page: inline SVG, no script, no network

std::string_view KindName(codec::WireOutcomeKind kind);
// Text for an HTML page: < > & " as entities (the report's page, backtest's).
std::string HtmlEscape(std::string_view text);  // "ACCEPTED", ... as in the proto

}  // namespace leadscore::report
