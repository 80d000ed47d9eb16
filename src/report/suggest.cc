// The suggested model: points per signal and fit rule fitted to the outcomes, tier
// minimums for a target conversion, written over the running model's YAML as a draft
// that `validate` accepts; checked on the newest routing events it was not fitted on.
#include "report/suggest.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "common/hash.h"
#include "report/calibration.h"
#include "report/report.h"

namespace leadscore::report {

namespace {

// The L2 weights cross-validation chooses from, on standardised columns.
const std::vector<double> kL2Grid = {0.1, 0.3, 1, 3, 10, 30, 100};
constexpr double kTrainShare = 0.7;
// Lead states: negatives past this many rows are thinned at random (by a hash of the
// lead and the time), which moves only the intercept of a logistic regression.
constexpr size_t kMaxNegativeRows = 60000;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

struct Feature {
  std::string name, kind;
  double points = 0, weight = 0;  // the model's points; the score weight of its axis
};

double Round1(double x) { return std::round(x * 10) / 10; }

// A look of the lead-state fit: before the split, one value per column.
bool IsTrainingLook(const LeadSamples::Row& row, const std::vector<Feature>& features, int64_t split_ms) {
  return row.at_ms < split_ms && row.points.size() == features.size();
}

// Per column: the draft's points per running-model point. A look's points under the
// draft are its points under the running model times this, caps included (a cap
// scales with its signal's points); a column without points adds nothing.
std::vector<double> DraftRatios(const std::vector<Feature>& features, const std::vector<double>& suggested) {
  std::vector<double> ratio(features.size(), 0);
  for (size_t j = 0; j < features.size(); ++j) {
    if (features[j].points != 0) ratio[j] = suggested[j] / features[j].points;
  }
  return ratio;
}

// A look's fit and intent, unclamped, with each column's points times `ratio`.
struct LookAxes {
  double fit = 0, intent = 0;
};
LookAxes AxesOf(const LeadSamples::Row& row, const std::vector<Feature>& features, const std::vector<double>& ratio) {
  LookAxes axes;
  for (size_t j = 0; j < features.size(); ++j) {
    if (features[j].points == 0) continue;
    (features[j].kind == "signal" ? axes.intent : axes.fit) += row.points[j] * ratio[j];
  }
  return axes;
}

// Each training look's fit or intent (clamped to 0..100, as the engine does) under the
// running model and under the draft, the draft's highest first.
struct AxisOfLooks {
  std::vector<double> running, draft;
};
AxisOfLooks AxisOfTrainingLooks(const LeadSamples& samples, const std::vector<Feature>& features,
                                const std::vector<double>& suggested, int64_t split_ms, bool fit_axis) {
  const std::vector<double> as_running(features.size(), 1.0), ratio = DraftRatios(features, suggested);
  AxisOfLooks out;
  for (const auto& row : samples.rows) {
    if (!IsTrainingLook(row, features, split_ms)) continue;
    const LookAxes running = AxesOf(row, features, as_running), draft = AxesOf(row, features, ratio);
    out.running.push_back(std::clamp(fit_axis ? running.fit : running.intent, 0.0, 100.0));
    out.draft.push_back(std::clamp(fit_axis ? draft.fit : draft.intent, 0.0, 100.0));
  }
  std::sort(out.draft.begin(), out.draft.end(), std::greater<>());
  return out;
}

// How many training looks reach `minimum` under the running model, and the draft's value
// that as many reach (its n-th highest; nullopt when none reach it: the caller says 100).
std::optional<double> DraftValueAtSameShare(const AxisOfLooks& looks, double minimum) {
  const auto n = static_cast<size_t>(
      std::count_if(looks.running.begin(), looks.running.end(), [&](double v) { return v >= minimum; }));
  if (n == 0) return std::nullopt;
  return looks.draft[std::min(n, looks.draft.size()) - 1];
}

// Each tier that has `minimum` gets the draft's value that as many training looks
// reach as reached the running model's minimum, placed by `place`; 100 when no look
// reached it.
std::vector<std::pair<std::string, double>> MinimumsByShare(const AxisOfLooks& looks, const model::EntityPolicy& lead,
                                                            std::optional<double> model::Tier::*minimum,
                                                            double (*place)(double)) {
  std::vector<std::pair<std::string, double>> out;
  for (const model::Tier& tier : lead.tiers) {
    if (!(tier.*minimum) || looks.draft.empty()) continue;
    const std::optional<double> at = DraftValueAtSameShare(looks, *(tier.*minimum));
    out.emplace_back(tier.name, at ? place(*at) : 100.0);
  }
  return out;
}

// Each tier's min_intent moves to the draft's intent that as many training looks reach
// as reached the running model's min_intent: the draft's intent has other proportions
// and another scale, and a min_intent keeps the share of lead-weeks it lets through.
std::vector<std::pair<std::string, double>> MinIntentsByShare(const LeadSamples& samples,
                                                              const std::vector<Feature>& features,
                                                              const std::vector<double>& suggested, int64_t split_ms,
                                                              const model::EntityPolicy& lead) {
  return MinimumsByShare(AxisOfTrainingLooks(samples, features, suggested, split_ms, false), lead,
                         &model::Tier::min_intent, [](double v) { return std::floor(v * 10) / 10; });
}

// With the fit axis fitted (stage B), each tier's min_fit moves the same way, to the
// draft's fit that as many training looks reach as reached the running model's min_fit:
// the gate keeps the share of lead-weeks it admits, and the fitted fit points say which
// lead-weeks those are. Dropping the gate and ranking by score alone lost the priority
// volume to the running model's gate (README, *Long enough for (B)*). The draft's fit
// is a sum of rule points in tenths (Round1), so it takes few values, each shared by
// many looks; the minimum is put half a tenth below the value reached, so that the
// engine's own sum of the same points (another rounding) meets it exactly when it should.
std::vector<std::pair<std::string, double>> MinFitsByShare(const LeadSamples& samples,
                                                           const std::vector<Feature>& features,
                                                           const std::vector<double>& suggested, int64_t split_ms,
                                                           const model::EntityPolicy& lead) {
  return MinimumsByShare(AxisOfTrainingLooks(samples, features, suggested, split_ms, true), lead,
                         &model::Tier::min_fit, [](double v) { return std::max(0.0, std::round(v * 10) / 10 - 0.05); });
}

// Stage (B)'s minimum: this many deals of the rarer end (won or lost) per column.
constexpr uint64_t kDealsPerColumn = 10;

// The factor (at most 1) that keeps every training look's draft fit and intent (only
// intent with `intent_only`) at or below 100: AddSuggestion's headroom.
double HeadroomScale(const LeadSamples& samples, const std::vector<Feature>& features,
                     const std::vector<double>& suggested, int64_t split_ms, bool intent_only) {
  const std::vector<double> ratio = DraftRatios(features, suggested);
  double top_fit = 0, top_intent = 0;
  for (const auto& row : samples.rows) {
    if (!IsTrainingLook(row, features, split_ms)) continue;
    const LookAxes axes = AxesOf(row, features, ratio);
    top_fit = std::max(top_fit, axes.fit);
    top_intent = std::max(top_intent, axes.intent);
  }
  const double top = intent_only ? top_intent : std::max(top_fit, top_intent);
  return top > 100 ? 100 / top : 1.0;
}

// The draft's score of a routing event: the event's own fit and intent with the listed
// factors' points replaced (unlisted ones, past the top 5, keep their old points).
double DraftScore(const engine::RoutingEvent& ev, const std::vector<Feature>& features,
                  const std::vector<double>& suggested, const model::EntityPolicy& policy) {
  double fit = ev.fit, intent = ev.intent;
  for (const auto& f : ev.factors) {
    for (size_t j = 0; j < features.size(); ++j) {
      if (features[j].name != f.name || features[j].points == 0) continue;
      const double ratio = suggested[j] / features[j].points;
      (features[j].kind == "fit_rule" ? fit : intent) += f.points * (ratio - 1);
    }
  }
  return policy.fit_weight * std::clamp(fit, 0.0, 100.0) + policy.intent_weight * std::clamp(intent, 0.0, 100.0);
}

// Whether each routing's lead converted: a CLOSED_WON joined to it or to a later
// routing of the same lead. The won outcome joins the lead's latest routing before it,
// so an earlier routing that sales accepted and that led to the deal is a hit too.
std::vector<bool> Converted(const std::vector<engine::RoutingEvent>& routed, const std::vector<Answer>& answers) {
  std::unordered_map<std::string, int64_t> last_won;
  for (size_t i = 0; i < routed.size(); ++i) {
    if (routed[i].entity != engine::EntityKind::kLead || !answers[i].won) continue;
    auto [it, fresh] = last_won.emplace(routed[i].lead_id, routed[i].occurred_at_ms);
    if (!fresh) it->second = std::max(it->second, routed[i].occurred_at_ms);
  }
  std::vector<bool> out(routed.size(), false);
  for (size_t i = 0; i < routed.size(); ++i) {
    if (routed[i].entity != engine::EntityKind::kLead) continue;
    const auto it = last_won.find(routed[i].lead_id);
    out[i] = it != last_won.end() && it->second >= routed[i].occurred_at_ms;
  }
  return out;
}

// The draft's YAML text: a header saying what it is, then the document.
std::string DraftText(const std::string& running_version, const YAML::Node& doc) {
  YAML::Emitter emit;
  // Ten digits: every number of a draft is in tenths or hundredths (a min_fit sits half
  // a tenth below a sum of tenths), and seventeen would print 15.55 as 15.549999999999999.
  emit.SetDoublePrecision(10);
  emit << doc;
  return "# A draft fitted by `leadscore report --suggest` to the outcomes of model " + running_version +
         ".\n# Compare it with the running model (`leadscore backtest`) before using it.\n" +
         std::string(emit.c_str()) + "\n";
}

}  // namespace

std::vector<std::string> SuggestColumns(const model::Model& model) {
  std::vector<std::string> out;
  for (const auto& s : model.signals) out.push_back(s.name);
  for (const auto& r : model.fit_rules) out.push_back(r.name);
  return out;
}

std::pair<double, double> TopK(const std::vector<double>& score, const std::vector<bool>& positive, size_t k) {
  std::vector<size_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  k = std::min(k, order.size());
  const auto all = static_cast<uint64_t>(std::count(positive.begin(), positive.end(), true));
  uint64_t picked = 0;
  for (size_t i = 0; i < k; ++i) picked += positive[order[i]];
  return {k ? static_cast<double>(picked) / static_cast<double>(k) : 0,
          all ? static_cast<double>(picked) / static_cast<double>(all) : 0};
}

Status AddSuggestion(const model::Model& model, const std::string& model_yaml,
                     const std::vector<engine::RoutingEvent>& routed, const std::vector<codec::WireOutcome>& outcomes,
                     Report* report, const LeadSamples* samples) {
  const Joined joined = Join(routed, outcomes);
  const std::vector<Answer> answers = Summarize(routed, outcomes, joined);
  const std::vector<bool> converted = Converted(routed, answers);
  // Answered lead routings into a tier, of this model, oldest first.
  std::vector<size_t> events;
  for (size_t i = 0; i < routed.size(); ++i) {
    const auto& ev = routed[i];
    if (ev.entity == engine::EntityKind::kLead && ev.direction == engine::Direction::kUp &&
        ev.model_version == model.version && answers[i].answered) {
      events.push_back(i);
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [&](size_t a, size_t b) { return routed[a].occurred_at_ms < routed[b].occurred_at_ms; });
  const size_t train = static_cast<size_t>(std::floor(kTrainShare * static_cast<double>(events.size())));
  if (train < 10 || events.size() - train < 3) {
    return Status::InvalidArgument("too few answered lead routing events to fit (" + std::to_string(events.size()) +
                                   ")");
  }
  std::vector<Feature> features;
  for (const auto& s : model.signals) features.push_back({s.name, "signal", s.points, model.lead.intent_weight});
  for (const auto& r : model.fit_rules) features.push_back({r.name, "fit_rule", r.points, model.lead.fit_weight});
  const int64_t split_ms = routed[events[train]].occurred_at_ms;
  // Nothing after the split reaches the fit: the labels come from the outcomes before
  // it only (a win after the split of a lead looked at or routed before it is outcome
  // data of the held-out period), and the rows are looks or routings before it. The
  // held-out checks below use every outcome.
  std::vector<codec::WireOutcome> before_split;
  for (const auto& o : outcomes) {
    if (o.occurred_at_ms < split_ms) before_split.push_back(o);
  }
  const std::vector<Answer> train_answers = Summarize(routed, before_split, Join(routed, before_split));
  const std::vector<bool> train_converted = Converted(routed, train_answers);
  // The training routings: the older answered ones, answered before the split.
  std::vector<size_t> fit_rows;
  for (size_t r = 0; r < train; ++r) {
    if (train_answers[events[r]].answered) fit_rows.push_back(r);
  }
  // Fewer wins than this and the fit describes a handful of deals, not the model.
  constexpr uint64_t kMinWins = 5;
  Eigen::MatrixXd x, xb;  // xb, yb: lead states, the deals of stage (B) below
  Eigen::VectorXd y, yb;
  uint64_t train_won = 0, train_rows = 0, deals_won = 0;
  if (!samples) {
    // Columns: each signal's and fit rule's points as listed among the factors (the top
    // 5). Columns for what the listed factors leave out (the event's fit or intent minus
    // them) were tried against the top-5 cut and did worse on the held-out check of six
    // markets (README), so the cut is left to the regression as noise.
    x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(fit_rows.size()), static_cast<Eigen::Index>(features.size()));
    y.resize(static_cast<Eigen::Index>(fit_rows.size()));
    for (size_t r = 0; r < fit_rows.size(); ++r) {
      const size_t e = events[fit_rows[r]];
      const auto& ev = routed[e];
      for (const auto& f : ev.factors) {
        for (size_t j = 0; j < features.size(); ++j) {
          if (features[j].name == f.name) x(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j)) = f.points;
        }
      }
      y(static_cast<Eigen::Index>(r)) = train_converted[e] ? 1 : 0;
      train_won += train_converted[e];
    }
    train_rows = fit_rows.size();
  } else {
    // Two stages, each labelled by outcomes before the split only and each on a window
    // that closes before it (a window cut by the split would call a late look "not won"
    // only because its outcome comes after the split; with 8 weeks before the split and
    // deals closing 2 to 9 weeks after the opportunity, a win label would see only the
    // quickest deals). (A) Whether the lead gets an opportunity within
    // kOpportunityHorizonDays of a look: every lead's state, looked at weekly, whose
    // window ends before the split. (B) Whether a deal opened on the lead is won: the
    // lead's last look at or before the opportunity, for each opportunity opened and
    // closed (won or lost) before the split. The draft's log-odds per point is (A)'s
    // plus (B)'s, (B)'s times 1 - its win share (log-odds to log-probability, near the
    // mean), so the score ranks by P(opportunity) x P(won | opportunity).
    std::unordered_map<std::string, std::vector<int64_t>> opened;
    std::unordered_map<std::string, std::vector<std::pair<int64_t, bool>>> closed;
    for (const auto& o : before_split) {
      if (o.lead_id.empty()) continue;
      if (o.kind == codec::WireOutcomeKind::kOpportunityCreated) opened[o.lead_id].push_back(o.occurred_at_ms);
      if (o.kind == codec::WireOutcomeKind::kClosedWon || o.kind == codec::WireOutcomeKind::kClosedLost) {
        closed[o.lead_id].emplace_back(o.occurred_at_ms, o.kind == codec::WireOutcomeKind::kClosedWon);
      }
    }
    std::vector<const std::vector<int64_t>*> lead_opened(samples->leads.size(), nullptr);
    for (size_t i = 0; i < samples->leads.size(); ++i) {
      if (auto it = opened.find(samples->leads[i]); it != opened.end()) lead_opened[i] = &it->second;
    }
    const int64_t horizon = kOpportunityHorizonDays * kDayMs;
    auto opens_after = [&](const LeadSamples::Row& row) {
      const auto* w = lead_opened[row.lead];
      return w && std::any_of(w->begin(), w->end(), [&](int64_t at) { return at > row.at_ms && at <= row.at_ms + horizon; });
    };
    std::vector<std::pair<size_t, bool>> kept;
    size_t negatives = 0;
    for (size_t r = 0; r < samples->rows.size(); ++r) {
      if (samples->rows[r].at_ms + horizon >= split_ms || samples->rows[r].points.size() != features.size()) continue;
      const bool yes = opens_after(samples->rows[r]);
      negatives += !yes;
      kept.emplace_back(r, yes);
    }
    const double keep = negatives > kMaxNegativeRows
                            ? static_cast<double>(kMaxNegativeRows) / static_cast<double>(negatives) : 1.0;
    std::erase_if(kept, [&](const std::pair<size_t, bool>& k) {
      if (k.second || keep >= 1) return false;
      const auto& row = samples->rows[k.first];
      const uint64_t h = Mix64(Mix64(row.lead) ^ static_cast<uint64_t>(row.at_ms));
      return static_cast<double>(h >> 11) * 0x1.0p-53 >= keep;
    });
    x.resize(static_cast<Eigen::Index>(kept.size()), static_cast<Eigen::Index>(features.size()));
    y.resize(static_cast<Eigen::Index>(kept.size()));
    for (size_t r = 0; r < kept.size(); ++r) {
      const auto& row = samples->rows[kept[r].first];
      for (size_t j = 0; j < features.size(); ++j) {
        x(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j)) = row.points[j];
      }
      y(static_cast<Eigen::Index>(r)) = kept[r].second ? 1 : 0;
      train_won += kept[r].second;
    }
    train_rows = kept.size();
    // (B): per lead index, its deals opened and closed before the split (first close
    // after the opening), then each deal's last look at or before its opening.
    struct Deal {
      int64_t opened_ms = 0;
      bool won = false;
      size_t row = SIZE_MAX;
    };
    std::unordered_map<uint32_t, std::vector<Deal>> deals;
    for (uint32_t i = 0; i < samples->leads.size(); ++i) {
      const auto o = opened.find(samples->leads[i]);
      const auto c = closed.find(samples->leads[i]);
      if (o == opened.end() || c == closed.end()) continue;
      for (int64_t at : o->second) {
        std::optional<std::pair<int64_t, bool>> first;
        for (const auto& cl : c->second) {
          if (cl.first >= at && (!first || cl.first < first->first)) first = cl;
        }
        if (first) deals[i].push_back({at, first->second});
      }
    }
    for (size_t r = 0; r < samples->rows.size(); ++r) {
      const auto& row = samples->rows[r];
      if (!IsTrainingLook(row, features, split_ms)) continue;
      const auto it = deals.find(row.lead);
      if (it == deals.end()) continue;
      for (Deal& d : it->second) {
        if (row.at_ms <= d.opened_ms && (d.row == SIZE_MAX || samples->rows[d.row].at_ms < row.at_ms)) d.row = r;
      }
    }
    std::vector<std::pair<size_t, bool>> deal_rows;
    for (const auto& [lead, ds] : deals) {
      for (const Deal& d : ds) {
        if (d.row != SIZE_MAX) deal_rows.emplace_back(d.row, d.won);
      }
    }
    std::sort(deal_rows.begin(), deal_rows.end());  // the looks' order: time, for the folds
    xb.resize(static_cast<Eigen::Index>(deal_rows.size()), static_cast<Eigen::Index>(features.size()));
    yb.resize(static_cast<Eigen::Index>(deal_rows.size()));
    for (size_t r = 0; r < deal_rows.size(); ++r) {
      const auto& row = samples->rows[deal_rows[r].first];
      for (size_t j = 0; j < features.size(); ++j) {
        xb(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j)) = row.points[j];
      }
      yb(static_cast<Eigen::Index>(r)) = deal_rows[r].second ? 1 : 0;
      deals_won += deal_rows[r].second;
    }
  }
  if (train_won < kMinWins || train_won == train_rows) {
    return Status::InvalidArgument(
        std::string(samples ? "the lead states whose window ends before the split (" : "the older 70 % of answered lead routings (") +
        std::to_string(train_rows) + ") hold " + std::to_string(train_won) +
        (samples ? " with an opportunity" : " won") + ": too few (or too many) to fit, at least " +
        std::to_string(kMinWins) + " of each end needed");
  }
  const double l2 = ChooseL2(x, y, kL2Grid);
  // Stage (B) only with enough deals of both ends: ten of the rarer end per column, the
  // usual rule for a logistic regression's events per variable (Peduzzi et al., 1996);
  // below it a fit of what wins is noise. Without (B) nothing measures what wins: (A)
  // measures who gets an opportunity, and fit is mostly about winning. The draft then
  // keeps the running model's fit axis whole (rule points, min_fit) and re-fits the
  // signals only (README, *The suggestion*).
  const auto deals_lost = static_cast<uint64_t>(xb.rows()) - deals_won;
  const bool stage_b = samples && std::min(deals_won, deals_lost) >= kDealsPerColumn * features.size();
  const bool keep_fit = samples && !stage_b;
  const double l2b = stage_b ? ChooseL2(xb, yb, kL2Grid) : 0;
  const double b_scale = stage_b ? 1.0 - static_cast<double>(deals_won) / static_cast<double>(xb.rows()) : 0;
  auto fit_both = [&]() -> Result<Logistic> {
    auto a = FitLogistic(x, y, l2);
    if (!a.ok() || !stage_b) return a;
    auto b = FitLogistic(xb, yb, l2b);
    if (!b.ok()) return b.status();
    a->coefficients += b_scale * b->coefficients;
    return a;
  };
  auto fitted = fit_both();
  if (!fitted.ok()) return fitted.status();
  std::vector<bool> against(features.size(), false);
  if (samples) {
    // Signs held: a column fitted against its sign leaves the regression, which is
    // fitted again without it, until every coefficient left has the model's sign.
    for (size_t round = 0; round < features.size(); ++round) {
      bool changed = false;
      for (size_t j = 0; j < features.size(); ++j) {
        if (keep_fit && features[j].kind != "signal") continue;  // not used: kept as the running model's
        if (fitted->coefficients(static_cast<Eigen::Index>(j)) < 0) {
          against[j] = true;
          x.col(static_cast<Eigen::Index>(j)).setZero();
          if (stage_b) xb.col(static_cast<Eigen::Index>(j)).setZero();
          changed = true;
        }
      }
      if (!changed) break;
      fitted = fit_both();
      if (!fitted.ok()) return fitted.status();
    }
  }

  Suggestion s;
  s.fitted_on = samples ? "lead states" : "routings";
  s.l2 = l2;
  s.train_events = train_rows;
  s.train_won = train_won;
  s.deals = static_cast<uint64_t>(xb.rows());
  s.deals_won = deals_won;
  s.deals_used = stage_b;
  s.fit_kept = keep_fit;
  s.test_events = events.size() - train;
  // Points: the model gives a factor `weight` of score per point; the fit gives it b
  // log-odds per point. Suggested points keep the model's overall scale (the same sum
  // of |points| over the fitted factors) and take the fit's proportions.
  std::vector<double> ratio(features.size(), 0);
  double old_sum = 0, new_sum = 0;
  for (size_t j = 0; j < features.size(); ++j) {
    const double b = fitted->coefficients(static_cast<Eigen::Index>(j));
    if (b == 0 || features[j].weight == 0) continue;  // never listed in the training events: left as it is
    if (keep_fit && features[j].kind != "signal") continue;
    // A sign against the running model's is read as the snapshots' selection (README), not
    // as the market: such points are kept (the draft re-weights, it does not flip).
    // (b is per point as listed, so a negative b is a flip whatever the points' sign.)
    // On lead states the running model did not select, a sign against it is evidence
    // the factor does not help: it gets the least points the model allows (below).
    if (b < 0) continue;
    ratio[j] = b / features[j].weight;
    old_sum += std::abs(features[j].points);
    new_sum += std::abs(features[j].points * ratio[j]);
  }
  std::vector<double> suggested(features.size());
  std::vector<bool> least(features.size(), false);  // cut to the least points the model allows
  std::vector<bool> kept(features.size(), false);   // the running model's, unscaled
  for (size_t j = 0; j < features.size(); ++j) {
    const Feature& f = features[j];
    const double b = fitted->coefficients(static_cast<Eigen::Index>(j));
    if (keep_fit && f.kind != "signal") {
      suggested[j] = f.points;
      kept[j] = true;
    } else if (samples && (b < 0 || against[j]) && new_sum > 0) {
      suggested[j] = f.points > 0 ? 0.1 : -0.1;  // the model refuses zero points
      least[j] = true;
      s.notes.push_back(f.kind + " " + f.name +
                        ": fitted against the running model's sign on the lead states; points cut to the least "
                        "the model allows");
    } else if (ratio[j] == 0 || new_sum == 0) {
      suggested[j] = f.points;
      s.notes.push_back(f.kind + " " + f.name +
                        (b == 0 ? std::string(": never among the training events' factors; points kept")
                                : std::string(": fitted against the running model's sign; points kept")));
    } else {
      suggested[j] = f.points * ratio[j] * old_sum / new_sum;
    }
  }
  if (samples) {
    // Headroom: a lead's score is linear in the fitted log-odds only while neither axis
    // is clamped at 100. Kept at the running model's sum of |points|, the fitted
    // signals put the most engaged leads' intent far past 100 (seed 42: 81 leads tied
    // at the top score), so the leads a priority tier should take apart all score the
    // same. The points shrink, all by one factor (the ranking is unchanged), until no
    // training look's draft fit or intent passes 100: a look's points under the draft
    // are its points under the running model times the draft's ratio, caps included.
    // With the fit axis kept, only the intent axis is fitted and scaled.
    s.headroom_scale = HeadroomScale(*samples, features, suggested, split_ms, keep_fit);
  }
  if (keep_fit) {
    s.notes.push_back("fit rules and min_fit: kept as the running model's; " + std::to_string(deals_won) + " won and " +
                      std::to_string(deals_lost) + " lost deals closed before the split, fewer than the " +
                      std::to_string(kDealsPerColumn * features.size()) +
                      " of each that measuring what wins needs; the signals are fitted to opportunities");
  }
  for (size_t j = 0; j < features.size(); ++j) {
    const Feature& f = features[j];
    if (!least[j] && !kept[j]) {
      double v = Round1(suggested[j] * s.headroom_scale);
      if (v == 0) v = f.points > 0 ? 0.1 : -0.1;  // the model refuses zero points
      suggested[j] = v;
    }
    s.points.push_back({f.name, f.kind, f.points, suggested[j], fitted->coefficients(static_cast<Eigen::Index>(j))});
  }
  if (keep_fit) s.min_intents = MinIntentsByShare(*samples, features, suggested, split_ms, model.lead);
  if (stage_b) {
    // The fit axis fitted: the gated tiers keep min_fit and min_intent, each moved to
    // the draft's value that admits the same share of training looks (MinFitsByShare).
    s.gates_refit = true;
    s.min_fits = MinFitsByShare(*samples, features, suggested, split_ms, model.lead);
    s.min_intents = MinIntentsByShare(*samples, features, suggested, split_ms, model.lead);
  }

  // Tier minimums: for each lead tier above the lowest one routed, the lowest draft
  // score at which the training routings at or above it convert as well as the
  // running model's routings into that tier did. The lowest routed tier keeps its
  // minimum: every answered routing is at or above it, so they cannot say where it
  // should be (its target would be the base rate, and every score would meet it).
  std::vector<double> draft(events.size()), running(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    draft[i] = DraftScore(routed[events[i]], features, suggested, model.lead);
    running[i] = routed[events[i]].score;
  }
  std::vector<size_t> by_draft = fit_rows;
  std::stable_sort(by_draft.begin(), by_draft.end(), [&](size_t a, size_t b) { return draft[a] > draft[b]; });
  const auto& tiers = model.lead.tiers;
  auto rank = [&](const std::string& tier) {
    for (size_t t = 0; t < tiers.size(); ++t) {
      if (tiers[t].name == tier) return t;
    }
    return tiers.size();
  };
  size_t lowest_routed = 0;
  for (size_t r : fit_rows) lowest_routed = std::max(lowest_routed, rank(routed[events[r]].to_tier));
  // Targets: each tier's conversion, made to rise with the tier (a tier never promises
  // less than the one below it).
  std::vector<std::optional<double>> target(tiers.size());
  double below = 0;
  for (size_t t = std::min(lowest_routed, tiers.size()); t-- > 0;) {
    uint64_t in = 0, won = 0;
    for (size_t r : fit_rows) {
      if (rank(routed[events[r]].to_tier) != t) continue;
      ++in;
      won += train_converted[events[r]];
    }
    if (in > 0) target[t] = std::max(below, static_cast<double>(won) / static_cast<double>(in));
    if (target[t]) below = *target[t];
  }
  std::optional<double> floor_above, current_above;
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    const model::Tier& tier = tiers[t];
    if (!tier.min_score) continue;  // a tier without a score minimum has none to move
    SuggestedTier st{tier.name, *tier.min_score, *tier.min_score, target[t].value_or(0)};
    std::optional<double> found;
    if (t >= lowest_routed) {
      // The lowest routed tier and those below: kept (see above).
    } else if (!target[t]) {
      s.notes.push_back("tier " + tier.name + ": no answered routing under the running model, no target");
    } else {
      // The lowest draft score at which the training events at or above it convert at
      // least the target.
      uint64_t seen = 0, won = 0;
      for (size_t i : by_draft) {
        ++seen;
        won += train_converted[events[i]];
        if (static_cast<double>(won) >= *target[t] * static_cast<double>(seen)) found = std::floor(draft[i] * 10) / 10;
      }
      if (!found) s.notes.push_back("tier " + tier.name + ": no draft score reaches its target");
    }
    if (t >= lowest_routed) {
      st.suggested_min_score = *tier.min_score;
    } else if (found && (!floor_above || *found < *floor_above)) {
      st.suggested_min_score = *found;
    } else if (floor_above) {
      // Not separable from the tier above: keep the running model's distance to it.
      st.suggested_min_score = std::max(0.0, Round1(*floor_above - (*current_above - *tier.min_score)));
      if (found) s.notes.push_back("tier " + tier.name + ": its target does not separate it from the tier above; "
                                   "the running model's distance kept");
    }
    floor_above = st.suggested_min_score;
    current_above = *tier.min_score;
    s.tiers.push_back(st);
  }

  // Without stage (B) min_fit is not refitted (README): say when the draft's points put
  // it out of reach, since then the draft routes nobody to that tier whatever its
  // min_score. With (B) it was moved by share (MinFitsByShare), within reach.
  double best_fit = 0;
  for (size_t j = 0; j < features.size(); ++j) {
    if (features[j].kind == "fit_rule" && suggested[j] > 0) best_fit += suggested[j];
  }
  best_fit = std::min(best_fit, 100.0);
  for (const model::Tier& tier : tiers) {
    if (tier.min_fit && *tier.min_fit > best_fit && !s.gates_refit) {
      char text[160];
      std::snprintf(text, sizeof text,
                    "tier %s: its min_fit %.1f is above the draft's highest fit (%.1f): the draft routes nobody "
                    "there; min_fit is not refitted", tier.name.c_str(), *tier.min_fit, best_fit);
      s.notes.push_back(text);
    }
  }

  // The loader wants minimums that fall strictly from tier to tier, down to the bottom's.
  double lower = tiers.back().min_score.value_or(0);
  for (auto it = s.tiers.rbegin(); it != s.tiers.rend(); ++it) {
    it->suggested_min_score = std::max(it->suggested_min_score, lower + 1);
    lower = it->suggested_min_score;
  }

  // Held out: the newest 30 %, re-scored with the draft's points from each routing's own
  // fit, intent and factors. Both models pick the same number, each its highest scores:
  // as many as the running model routed above its lowest routed tier (the priority
  // tiers), or its top 30 % when it routed all or none there. Precision at a volume
  // that small is a handful of leads, so the same is shown at 10, 20 and 30 %.
  std::vector<size_t> test(events.begin() + static_cast<std::ptrdiff_t>(train), events.end());
  std::vector<double> draft_test(draft.begin() + static_cast<std::ptrdiff_t>(train), draft.end());
  std::vector<double> running_test(running.begin() + static_cast<std::ptrdiff_t>(train), running.end());
  std::vector<bool> positive(test.size());
  for (size_t i = 0; i < test.size(); ++i) positive[i] = converted[test[i]];
  size_t lowest_rank = 0;
  for (size_t i : test) lowest_rank = std::max(lowest_rank, rank(routed[i].to_tier));
  size_t volume = 0;
  for (size_t i : test) volume += rank(routed[i].to_tier) < lowest_rank;
  if (volume == 0 || volume == test.size()) {
    volume = std::max<size_t>(1, static_cast<size_t>(std::round(0.3 * static_cast<double>(test.size()))));
    s.notes.push_back("held out: the running model sent every held-out event to one tier; both models are compared "
                      "on their top 30 % by score (" + std::to_string(volume) + " events)");
  }
  HeldOutCheck& h = s.held_out;
  h.events = test.size();
  h.won = static_cast<uint64_t>(std::count(positive.begin(), positive.end(), true));
  h.volume = volume;
  h.split_ms = routed[test.front()].occurred_at_ms;
  std::tie(h.running_precision, h.running_recall) = TopK(running_test, positive, volume);
  std::tie(h.draft_precision, h.draft_recall) = TopK(draft_test, positive, volume);
  for (double share : {0.1, 0.2, 0.3}) {
    HeldOutAt at;
    at.volume = std::max<uint64_t>(1, static_cast<uint64_t>(std::round(share * static_cast<double>(test.size()))));
    std::tie(at.running_precision, at.running_recall) = TopK(running_test, positive, at.volume);
    std::tie(at.draft_precision, at.draft_recall) = TopK(draft_test, positive, at.volume);
    h.wider.push_back(at);
  }

  // The draft: the running model's YAML with the points, caps and minimums replaced.
  YAML::Node doc;
  try {
    doc = YAML::Load(model_yaml);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("the running model's YAML: ") + e.what());
  }
  doc["version"] = (model.version_label.empty() ? std::string("model") : model.version_label) + "-suggested";
  for (size_t j = 0; j < features.size(); ++j) {
    const Feature& f = features[j];
    if (f.kind == "signal") {
      YAML::Node sig = doc["intent"]["signals"][f.name];
      sig["points"] = suggested[j];
      if (sig["cap"]) {
        if (suggested[j] > 0 && f.points > 0) {
          sig["cap"] = Round1(sig["cap"].as<double>() * suggested[j] / f.points);
        } else {
          sig.remove("cap");  // a cap bounds what a signal adds; for a penalty it has no meaning
        }
      }
    } else {
      for (YAML::Node rule : doc["fit"]["rules"]) {
        if (rule["name"].as<std::string>() == f.name) rule["points"] = suggested[j];
      }
    }
  }
  for (const auto& st : s.tiers) {
    for (YAML::Node tier : doc["lead"]["tiers"]) {
      if (tier["name"].as<std::string>() == st.name) tier["min_score"] = st.suggested_min_score;
    }
  }
  for (const auto& [name, min_intent] : s.min_intents) {
    for (YAML::Node tier : doc["lead"]["tiers"]) {
      if (tier["name"].as<std::string>() == name) tier["min_intent"] = min_intent;
    }
  }
  for (const auto& [name, min_fit] : s.min_fits) {
    for (YAML::Node tier : doc["lead"]["tiers"]) {
      if (tier["name"].as<std::string>() == name) tier["min_fit"] = min_fit;
    }
  }
  s.draft_yaml = DraftText(model.version, doc);
  report->suggestion = std::move(s);
  return Status::Ok();
}

namespace {

struct RoutedLead {
  size_t best_rank = 0;
  double best_score = 0;
  int64_t first_ms = 0;
};

// The leads `model` routed UP into a tier above its lowest after `split_ms`.
std::unordered_map<std::string, RoutedLead> RoutedAfter(const model::Model& model,
                                                         const std::vector<engine::RoutingEvent>& routed,
                                                         int64_t split_ms) {
  const auto& tiers = model.lead.tiers;
  std::unordered_map<std::string, RoutedLead> out;
  for (const auto& ev : routed) {
    if (ev.entity != engine::EntityKind::kLead || ev.direction != engine::Direction::kUp || ev.occurred_at_ms < split_ms) {
      continue;
    }
    size_t rank = tiers.size();
    for (size_t t = 0; t < tiers.size(); ++t) {
      if (tiers[t].name == ev.to_tier) rank = t;
    }
    if (rank + 1 >= tiers.size()) continue;  // the bottom tier (or none): not routed
    auto [it, fresh] = out.emplace(ev.lead_id, RoutedLead{rank, ev.score, ev.occurred_at_ms});
    if (fresh) continue;
    it->second.best_rank = std::min(it->second.best_rank, rank);
    it->second.best_score = std::max(it->second.best_score, ev.score);
    it->second.first_ms = std::min(it->second.first_ms, ev.occurred_at_ms);
  }
  return out;
}

// Of the `k` best-ranked leads (tier, then score; ties by id), how many converted.
uint64_t ConvertedOfTop(const std::unordered_map<std::string, RoutedLead>& leads,
                        const std::unordered_map<std::string, std::vector<int64_t>>& won, size_t k) {
  std::vector<std::pair<std::string, RoutedLead>> v(leads.begin(), leads.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    if (a.second.best_rank != b.second.best_rank) return a.second.best_rank < b.second.best_rank;
    if (a.second.best_score != b.second.best_score) return a.second.best_score > b.second.best_score;
    return a.first < b.first;
  });
  uint64_t hits = 0;
  for (size_t i = 0; i < std::min(k, v.size()); ++i) {
    const auto it = won.find(v[i].first);
    if (it == won.end()) continue;
    hits += std::any_of(it->second.begin(), it->second.end(), [&](int64_t at) { return at >= v[i].second.first_ms; });
  }
  return hits;
}

}  // namespace

void AddReplayedCheck(const model::Model& running, const model::Model& draft,
                      const std::vector<engine::RoutingEvent>& running_routed,
                      const std::vector<engine::RoutingEvent>& draft_routed,
                      const std::vector<codec::WireOutcome>& outcomes, Report* report) {
  if (!report->suggestion) return;
  ReplayedCheck c;
  c.split_ms = report->suggestion->held_out.split_ms;
  std::unordered_map<std::string, std::vector<int64_t>> won;
  for (const auto& o : outcomes) {
    if (o.kind == codec::WireOutcomeKind::kClosedWon && !o.lead_id.empty()) won[o.lead_id].push_back(o.occurred_at_ms);
  }
  const auto r = RoutedAfter(running, running_routed, c.split_ms);
  const auto d = RoutedAfter(draft, draft_routed, c.split_ms);
  auto priority = [](const model::Model& m, const std::unordered_map<std::string, RoutedLead>& leads) {
    const size_t lowest_routed = m.lead.tiers.size() >= 2 ? m.lead.tiers.size() - 2 : 0;
    return static_cast<uint64_t>(
        std::count_if(leads.begin(), leads.end(), [&](const auto& l) { return l.second.best_rank < lowest_routed; }));
  };
  c.running_routed = r.size();
  c.draft_routed = d.size();
  c.running_priority = priority(running, r);
  c.draft_priority = priority(draft, d);
  for (auto [what, volume] : {std::pair<std::string, uint64_t>{"routed", c.running_routed},
                              std::pair<std::string, uint64_t>{"priority", c.running_priority}}) {
    ReplayedAt at;
    at.volume_of = what;
    at.volume = std::min<uint64_t>(volume, c.draft_routed);
    at.running_converted = ConvertedOfTop(r, won, at.volume);
    at.draft_converted = ConvertedOfTop(d, won, at.volume);
    c.at.push_back(at);
  }
  report->suggestion->replayed = std::move(c);
}

}  // namespace leadscore::report

namespace leadscore::report {

namespace {
constexpr int kProbeSteps = 200;  // tiers every 100 / 200 = half a point
}  // namespace

Result<std::string> ProbeYaml(const Suggestion& suggestion) {
  YAML::Node doc;
  try {
    doc = YAML::Load(suggestion.draft_yaml);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("the draft's YAML: ") + e.what());
  }
  YAML::Node old_tiers = doc["lead"]["tiers"];
  if (!old_tiers.IsSequence() || old_tiers.size() == 0) return Status::InvalidArgument("the draft has no lead tiers");
  const std::string bottom = old_tiers[old_tiers.size() - 1]["name"].as<std::string>();
  YAML::Node tiers(YAML::NodeType::Sequence);
  for (int k = kProbeSteps - 1; k >= 1; --k) {
    YAML::Node t;
    t["name"] = "probe_" + std::to_string(k);
    t["min_score"] = 100.0 * k / kProbeSteps;
    tiers.push_back(t);
  }
  YAML::Node last;
  last["name"] = bottom == "probe_0" ? std::string("probe_bottom") : bottom;
  last["min_score"] = 0;
  tiers.push_back(last);
  doc["lead"]["tiers"] = tiers;
  doc["lead"]["hysteresis"] = 100;  // never down: each lead's highest tier is its highest score
  doc["version"] = doc["version"].as<std::string>() + "-probe";
  YAML::Emitter emit;
  emit << doc;
  return std::string(emit.c_str()) + "\n";
}

Status SetTiersByVolume(const model::Model& running, const std::vector<engine::RoutingEvent>& running_routed,
                        const model::Model& probe, const std::vector<engine::RoutingEvent>& probe_routed,
                        Report* report) {
  if (!report->suggestion) return Status::InvalidArgument("no suggestion");
  Suggestion& s = *report->suggestion;
  const int64_t split = s.held_out.split_ms;
  const auto& tiers = running.lead.tiers;
  if (tiers.size() < 2) return Status::InvalidArgument("one lead tier: nothing to set");
  auto rank_in = [](const model::EntityPolicy& p, const std::string& name) {
    for (size_t t = 0; t < p.tiers.size(); ++t) {
      if (p.tiers[t].name == name) return t;
    }
    return p.tiers.size();
  };
  // The running model: each lead's best tier before the split (the bottom: not routed).
  std::unordered_map<std::string, size_t> best;
  for (const auto& ev : running_routed) {
    if (ev.entity != engine::EntityKind::kLead || ev.direction != engine::Direction::kUp || ev.occurred_at_ms >= split) {
      continue;
    }
    const size_t r = rank_in(running.lead, ev.to_tier);
    if (r + 1 >= tiers.size()) continue;
    auto [it, fresh] = best.emplace(ev.lead_id, r);
    if (!fresh) it->second = std::min(it->second, r);
  }
  YAML::Node doc;
  try {
    doc = YAML::Load(s.draft_yaml);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("the draft's YAML: ") + e.what());
  }
  // The gates a tier keeps (with the fit axis kept, or refitted by share with stage B):
  // the probe counts a lead into the tier at a level only when a routing at that level
  // met them too.
  const bool gated = s.fit_kept || s.gates_refit;
  auto gate = [&](const std::string& name, const char* key) {
    if (!gated) return -1.0;
    for (YAML::Node tier : doc["lead"]["tiers"]) {
      if (tier["name"].as<std::string>() == name && tier[key]) return tier[key].as<double>();
    }
    return -1.0;
  };
  // The probe, per tier: the leads at or above each half-point level before the split.
  auto at_or_above_for = [&](double min_fit, double min_intent) {
    std::unordered_map<std::string, double> highest;
    for (const auto& ev : probe_routed) {
      if (ev.entity != engine::EntityKind::kLead || ev.direction != engine::Direction::kUp ||
          ev.occurred_at_ms >= split || ev.fit < min_fit || ev.intent < min_intent) {
        continue;
      }
      const size_t r = rank_in(probe.lead, ev.to_tier);
      if (r >= probe.lead.tiers.size() || !probe.lead.tiers[r].min_score) continue;
      double& h = highest[ev.lead_id];
      h = std::max(h, *probe.lead.tiers[r].min_score);
    }
    std::vector<uint64_t> at_level(kProbeSteps + 1, 0);  // leads whose highest is exactly level k / 2
    for (const auto& [lead, h] : highest) {
      const auto k = static_cast<size_t>(std::clamp(std::lround(h * kProbeSteps / 100.0), 0L, long{kProbeSteps}));
      ++at_level[k];
    }
    std::vector<uint64_t> out(kProbeSteps + 2, 0);
    for (int k = kProbeSteps; k >= 0; --k) out[k] = out[k + 1] + at_level[k];
    return out;
  };

  // From the top: each routed tier's level, strictly below the one above and above 0.
  int above = kProbeSteps + 1;
  std::vector<SuggestedTier> set;
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    uint64_t volume = 0;
    for (const auto& [lead, r] : best) volume += r <= t;
    const auto at_or_above = at_or_above_for(gate(tiers[t].name, "min_fit"), gate(tiers[t].name, "min_intent"));
    // The level whose volume is nearest the running model's (a tie: the higher level).
    int level = std::min(above - 1, kProbeSteps);
    for (int k = std::min(above - 1, kProbeSteps); k >= 1; --k) {
      const auto gap = [&](int at) {
        const uint64_t v = at_or_above[static_cast<size_t>(at)];
        return v > volume ? v - volume : volume - v;
      };
      if (gap(k) < gap(level)) level = k;
    }
    level = std::max(level, 1 + static_cast<int>(tiers.size() - 2 - t));  // room for the tiers below
    above = level;
    SuggestedTier st{tiers[t].name, tiers[t].min_score.value_or(0), 100.0 * level / kProbeSteps, 0};
    st.train_volume = volume;
    st.draft_train_volume = at_or_above[static_cast<size_t>(level)];
    set.push_back(st);
    for (YAML::Node tier : doc["lead"]["tiers"]) {
      if (tier["name"].as<std::string>() != st.name) continue;
      tier["min_score"] = st.suggested_min_score;
      if (!gated) {
        tier.remove("min_fit");
        tier.remove("min_intent");
      }
    }
  }
  s.tiers = std::move(set);
  // What was said of the tiers before (targets, min_fit out of reach) is moot now.
  std::erase_if(s.notes, [](const std::string& n) { return n.rfind("tier ", 0) == 0; });
  s.notes.push_back(std::string("lead tiers: min_score set by volume (the draft, replayed before the split, routes "
                                "about as many leads into each tier or above as the running model did); ") +
                    (s.fit_kept      ? "min_fit kept, min_intent moved to the same share of lead-weeks"
                     : s.gates_refit ? "min_fit and min_intent moved to the draft's fit and intent that admit the "
                                       "same share of lead-weeks as the running model's"
                                     : "min_fit and min_intent dropped, the draft ranks by its score alone"));
  s.draft_yaml = DraftText(running.version, doc);
  return Status::Ok();
}

}  // namespace leadscore::report
