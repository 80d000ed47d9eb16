// The suggested model: points per signal and fit rule fitted to the outcomes, tier
// minimums for a target conversion, written over the running model's YAML as a draft
// that `validate` accepts; checked on the newest routing events it was not fitted on.
#include "report/suggest.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "report/calibration.h"
#include "report/report.h"

namespace leadscore::report {

Result<Logistic> FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double l2) {
  const Eigen::Index n = x.rows(), k = x.cols();
  // Standardised, so one L2 weight means the same for points of 3 and of 25.
  Eigen::VectorXd mean = x.colwise().mean().transpose();
  Eigen::VectorXd sd(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    sd(j) = std::sqrt((x.col(j).array() - mean(j)).square().sum() / static_cast<double>(std::max<Eigen::Index>(1, n)));
  }
  Eigen::MatrixXd z(n, k + 1);
  z.col(0).setOnes();
  for (Eigen::Index j = 0; j < k; ++j) {
    if (sd(j) > 1e-12) {
      z.col(j + 1) = ((x.col(j).array() - mean(j)) / sd(j)).matrix();
    } else {
      z.col(j + 1).setZero();
    }
  }
  Eigen::MatrixXd penalty = Eigen::MatrixXd::Identity(k + 1, k + 1) * l2;
  penalty(0, 0) = 0;  // the intercept is the base rate, not a preference
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(k + 1);
  Logistic out;
  for (int it = 1; it <= 100; ++it) {
    const Eigen::VectorXd prob = (1.0 / (1.0 + (-(z * beta)).array().exp())).matrix();
    const Eigen::VectorXd w = (prob.array() * (1 - prob.array())).max(1e-12).matrix();
    const Eigen::VectorXd gradient = z.transpose() * (y - prob) - penalty * beta;
    const Eigen::MatrixXd hessian = z.transpose() * w.asDiagonal() * z + penalty;
    // A column of zeros (constant) leaves the Hessian singular without L2 on it.
    const Eigen::MatrixXd h = hessian + 1e-9 * Eigen::MatrixXd::Identity(k + 1, k + 1);
    const Eigen::VectorXd step = h.ldlt().solve(gradient);
    if (!step.allFinite()) return Status::InvalidArgument("the regression diverged");
    beta += step;
    out.iterations = it;
    if (step.norm() < 1e-10) break;
    if (it == 100) return Status::InvalidArgument("the regression did not converge in 100 steps");
  }
  out.coefficients.resize(k);
  out.intercept = beta(0);
  for (Eigen::Index j = 0; j < k; ++j) {
    out.coefficients(j) = sd(j) > 1e-12 ? beta(j + 1) / sd(j) : 0;
    out.intercept -= out.coefficients(j) * mean(j);
  }
  return out;
}

namespace {

constexpr double kL2 = 1.0;
constexpr double kTrainShare = 0.7;

struct Feature {
  std::string name, kind;
  double points = 0, weight = 0;  // the model's points; the score weight of its axis
};

double Round1(double x) { return std::round(x * 10) / 10; }

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

// Precision and recall of picking the `k` highest by `score` among `events`.
std::pair<double, double> TopK(const std::vector<size_t>& events, const std::vector<double>& score,
                               const std::vector<Answer>& answers, size_t k) {
  std::vector<size_t> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  uint64_t won = 0, picked_won = 0;
  for (size_t i = 0; i < events.size(); ++i) won += answers[events[i]].won;
  for (size_t i = 0; i < k && i < order.size(); ++i) picked_won += answers[events[order[i]]].won;
  return {k ? static_cast<double>(picked_won) / static_cast<double>(k) : 0,
          won ? static_cast<double>(picked_won) / static_cast<double>(won) : 0};
}

}  // namespace

Status AddSuggestion(const model::Model& model, const std::string& model_yaml,
                     const std::vector<engine::RoutingEvent>& routed, const std::vector<codec::WireOutcome>& outcomes,
                     Report* report) {
  const Joined joined = Join(routed, outcomes);
  const std::vector<Answer> answers = Summarize(routed, outcomes, joined);
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
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(train), static_cast<Eigen::Index>(features.size()));
  Eigen::VectorXd y(static_cast<Eigen::Index>(train));
  uint64_t train_won = 0;
  for (size_t r = 0; r < train; ++r) {
    const auto& ev = routed[events[r]];
    for (const auto& f : ev.factors) {
      for (size_t j = 0; j < features.size(); ++j) {
        if (features[j].name == f.name) x(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j)) = f.points;
      }
    }
    y(static_cast<Eigen::Index>(r)) = answers[events[r]].won ? 1 : 0;
    train_won += answers[events[r]].won;
  }
  // Fewer wins than this and the fit describes a handful of deals, not the model.
  constexpr uint64_t kMinWins = 5;
  if (train_won < kMinWins || train_won == train) {
    return Status::InvalidArgument("the older 70 % of answered lead routings (" + std::to_string(train) + ") hold " +
                                   std::to_string(train_won) + " won: too few wins (or losses) to fit, at least " +
                                   std::to_string(kMinWins) + " of each needed");
  }
  auto fitted = FitLogistic(x, y, kL2);
  if (!fitted.ok()) return fitted.status();

  Suggestion s;
  s.l2 = kL2;
  s.train_events = train;
  s.train_won = train_won;
  s.test_events = events.size() - train;
  // Points: the model gives a factor `weight` of score per point; the fit gives it b
  // log-odds per point. Suggested points keep the model's overall scale (the same sum
  // of |points| over the fitted factors) and take the fit's proportions.
  std::vector<double> ratio(features.size(), 0);
  double old_sum = 0, new_sum = 0;
  for (size_t j = 0; j < features.size(); ++j) {
    const double b = fitted->coefficients(static_cast<Eigen::Index>(j));
    if (b == 0 || features[j].weight == 0) continue;  // never listed in the training events: left as it is
    ratio[j] = b / features[j].weight;
    old_sum += std::abs(features[j].points);
    new_sum += std::abs(features[j].points * ratio[j]);
  }
  std::vector<double> suggested(features.size());
  for (size_t j = 0; j < features.size(); ++j) {
    const Feature& f = features[j];
    if (ratio[j] == 0 || new_sum == 0) {
      suggested[j] = f.points;
      s.notes.push_back(f.kind + " " + f.name + ": never among the training events' factors; points kept");
    } else {
      double v = Round1(f.points * ratio[j] * old_sum / new_sum);
      if (v == 0) v = f.points > 0 ? 0.1 : -0.1;  // the model refuses zero points
      suggested[j] = v;
    }
    s.points.push_back({f.name, f.kind, f.points, suggested[j], fitted->coefficients(static_cast<Eigen::Index>(j))});
  }

  // Tier minimums: for each lead tier with an SLA (routed to sales), the lowest draft
  // score at which the training events at or above it convert as well as the tier's
  // answered routings did under the running model.
  std::vector<double> draft(events.size()), running(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    draft[i] = DraftScore(routed[events[i]], features, suggested, model.lead);
    running[i] = routed[events[i]].score;
  }
  std::vector<size_t> by_draft(train);
  std::iota(by_draft.begin(), by_draft.end(), 0);
  std::stable_sort(by_draft.begin(), by_draft.end(), [&](size_t a, size_t b) { return draft[a] > draft[b]; });
  // Targets: each routed tier's conversion of answered routings under the running model,
  // made to rise with the tier (a tier never promises less than the one below it).
  const auto& tiers = model.lead.tiers;
  std::vector<std::optional<double>> target(tiers.size());
  double below = 0;
  for (size_t t = tiers.size() - 1; t-- > 0;) {
    for (const auto& c : report->versions) {
      for (const auto& r : c.tiers) {
        if (c.model_version == model.version && r.entity == "lead" && r.tier == tiers[t].name && r.answered > 0) {
          target[t] = std::max(below, static_cast<double>(r.won) / static_cast<double>(r.answered));
        }
      }
    }
    if (target[t]) below = *target[t];
  }
  std::optional<double> floor_above, current_above;
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    const model::Tier& tier = tiers[t];
    if (!tier.min_score) continue;  // a tier without a score minimum has none to move
    SuggestedTier st{tier.name, *tier.min_score, *tier.min_score, target[t].value_or(0)};
    std::optional<double> found;
    if (!target[t]) {
      s.notes.push_back("tier " + tier.name + ": no answered routing under the running model, no target");
    } else {
      // The lowest draft score at which the training events at or above it convert at
      // least the target.
      uint64_t seen = 0, won = 0;
      for (size_t i : by_draft) {
        ++seen;
        won += answers[events[i]].won;
        if (static_cast<double>(won) >= *target[t] * static_cast<double>(seen)) found = std::floor(draft[i] * 10) / 10;
      }
      if (!found) s.notes.push_back("tier " + tier.name + ": no draft score reaches its target");
    }
    if (found && (!floor_above || *found < *floor_above)) {
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

  // The loader wants minimums that fall strictly from tier to tier, down to the bottom's.
  double lower = tiers.back().min_score.value_or(0);
  for (auto it = s.tiers.rbegin(); it != s.tiers.rend(); ++it) {
    it->suggested_min_score = std::max(it->suggested_min_score, lower + 1);
    lower = it->suggested_min_score;
  }

  // Held out: the newest 30 %, each model picking as many as the running model sent to
  // its tiers above the lowest one routed (or its top 30 % when that is all or none).
  std::vector<size_t> test(events.begin() + static_cast<std::ptrdiff_t>(train), events.end());
  std::vector<double> draft_test(draft.begin() + static_cast<std::ptrdiff_t>(train), draft.end());
  std::vector<double> running_test(running.begin() + static_cast<std::ptrdiff_t>(train), running.end());
  size_t lowest_rank = 0;
  auto rank = [&](const std::string& tier) {
    for (size_t t = 0; t < model.lead.tiers.size(); ++t) {
      if (model.lead.tiers[t].name == tier) return t;
    }
    return model.lead.tiers.size();
  };
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
  for (size_t i : test) h.won += answers[i].won;
  h.volume = volume;
  std::tie(h.running_precision, h.running_recall) = TopK(test, running_test, answers, volume);
  std::tie(h.draft_precision, h.draft_recall) = TopK(test, draft_test, answers, volume);

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
  YAML::Emitter emit;
  emit << doc;
  s.draft_yaml = "# A draft fitted by `leadscore report --suggest` to the outcomes of model " + model.version +
                 ".\n# Compare it with the running model (`leadscore backtest`) before using it.\n" +
                 std::string(emit.c_str()) + "\n";
  report->suggestion = std::move(s);
  return Status::Ok();
}

}  // namespace leadscore::report
