#include "cli/backtest.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "cli/replay_loop.h"
#include "codec/codec.h"
#include "report/report.h"

namespace leadscore::cli {
namespace {

const char* KindName(engine::EntityKind k) { return k == engine::EntityKind::kLead ? "lead" : "account"; }

// Which routing event an outcome answers (SPEC section 2): the one its routing_id names
// when this run has it, else the latest UP routing event of its lead (of its account when
// lead_id is empty) at or before occurred_at_ms. Routing ids hash the model version, so
// an id of one model is unknown to the other: the second rule lets both runs answer the
// same outcome.
const engine::RoutingEvent* Answered(const codec::WireOutcome& o, const std::vector<engine::RoutingEvent>& events,
                                     const std::unordered_map<std::string, size_t>& by_id) {
  if (!o.routing_id.empty()) {
    if (auto it = by_id.find(o.routing_id); it != by_id.end()) return &events[it->second];
  }
  const engine::RoutingEvent* best = nullptr;
  for (const auto& ev : events) {
    if (ev.direction != engine::Direction::kUp || ev.occurred_at_ms > o.occurred_at_ms) continue;
    const bool mine = o.lead_id.empty()
                          ? ev.entity == engine::EntityKind::kAccount && ev.account_id == o.account_id
                          : ev.entity == engine::EntityKind::kLead && ev.lead_id == o.lead_id;
    if (mine && (!best || ev.occurred_at_ms >= best->occurred_at_ms)) best = &ev;
  }
  return best;
}

BacktestSide Run(std::shared_ptr<const model::Model> model, const std::string& history,
                 const std::vector<codec::WireOutcome>& outcomes, std::ostream& errors, const BacktestOptions& options,
                 ReplayLoopCounts* counts) {
  BacktestSide side;
  side.model_version = model->version;
  for (const auto& [kind, policy] : {std::pair{"lead", &model->lead}, std::pair{"account", &model->account}}) {
    for (const auto& t : policy->tiers) side.tiers[kind].push_back(t.name);
    side.tiers[kind].insert(side.tiers[kind].end(), {"suppressed", "disqualified"});
  }
  stream::PartitionTask task(0, model, ReplayTaskOptions({}), nullptr);
  std::vector<engine::RoutingEvent> events;
  std::istringstream in(history);
  stream::BatchOutcome totals;
  *counts = RunReplayLoop(task, in, options.until_ms, errors,
                          [&](const engine::RoutingEvent& ev) { events.push_back(ev); }, &totals);
  side.routed = events.size();
  std::unordered_map<std::string, size_t> by_id;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& ev = events[i];
    by_id.emplace(ev.routing_id, i);
    const bool up = ev.direction == engine::Direction::kUp;
    ++side.volume[KindName(ev.entity)][ev.to_tier][up ? "up" : "down"];
    if (up) ++side.conversion[KindName(ev.entity)][ev.to_tier].routed;
  }
  // A routing event counts as won once, however many CLOSED_WON answer it.
  std::map<size_t, bool> won;
  for (const auto& o : outcomes) {
    const engine::RoutingEvent* ev = Answered(o, events, by_id);
    if (!ev) {
      ++side.outcomes_unmatched;
      continue;
    }
    if (o.kind == codec::WireOutcomeKind::kClosedWon && ev->direction == engine::Direction::kUp) {
      won[static_cast<size_t>(ev - events.data())] = true;
    }
  }
  for (const auto& [i, yes] : won) ++side.conversion[KindName(events[i].entity)][events[i].to_tier].won;
  // Final tiers: every entity the run knows, routed or not (one never routed is in the
  // tier it was born in, which may be `disqualified`).
  engine::Engine& eng = task.engine();
  for (engine::EntityKind kind : {engine::EntityKind::kLead, engine::EntityKind::kAccount}) {
    const engine::IdTable& ids = kind == engine::EntityKind::kLead ? eng.lead_ids() : eng.account_ids();
    for (size_t n = 0; n < ids.size(); ++n) {
      const std::string id(ids.Name(static_cast<engine::EntityId>(n)));
      if (id.empty()) continue;
      auto view = kind == engine::EntityKind::kLead ? eng.ViewLead(id) : eng.ViewAccount(id);
      if (view) side.final_tier[KindName(kind)][id] = view->tier;
    }
  }
  return side;
}

// Tiers in the order people read them: the draft's, then any only the baseline has;
// `suppressed` and `disqualified` only when an entity is or went there.
std::vector<std::string> TierOrder(const BacktestResult& r, const std::string& kind) {
  auto used = [&](const std::string& t) {
    for (const BacktestSide* s : {&r.draft, &r.baseline}) {
      if (auto v = s->volume.find(kind); v != s->volume.end() && v->second.count(t)) return true;
      if (auto f = s->final_tier.find(kind); f != s->final_tier.end()) {
        for (const auto& [id, tier] : f->second) {
          if (tier == t) return true;
        }
      }
    }
    return false;
  };
  std::vector<std::string> order;
  for (const BacktestSide* s : {&r.draft, &r.baseline}) {
    auto it = s->tiers.find(kind);
    if (it == s->tiers.end()) continue;
    for (const auto& t : it->second) {
      if ((t == "suppressed" || t == "disqualified") && !used(t)) continue;
      if (std::find(order.begin(), order.end(), t) == order.end()) order.push_back(t);
    }
  }
  return order;
}

uint64_t Get(const std::map<std::string, std::map<std::string, std::map<std::string, uint64_t>>>& m,
             const std::string& a, const std::string& b, const std::string& c) {
  auto i = m.find(a);
  if (i == m.end()) return 0;
  auto j = i->second.find(b);
  if (j == i->second.end()) return 0;
  auto k = j->second.find(c);
  return k == j->second.end() ? 0 : k->second;
}

BacktestSide::Conversion ConversionOf(const BacktestSide& s, const std::string& kind, const std::string& tier) {
  auto i = s.conversion.find(kind);
  if (i == s.conversion.end()) return {};
  auto j = i->second.find(tier);
  return j == i->second.end() ? BacktestSide::Conversion{} : j->second;
}

std::string Rate(const BacktestSide::Conversion& c) {
  if (c.routed == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * static_cast<double>(c.won) / static_cast<double>(c.routed));
  return buf;
}

nlohmann::json SideJson(const BacktestSide& s) {
  nlohmann::json j;
  j["model_version"] = s.model_version;
  j["routed"] = s.routed;
  j["volume"] = s.volume;
  for (const auto& [kind, tiers] : s.conversion) {
    for (const auto& [tier, c] : tiers) {
      nlohmann::json& t = j["conversion"][kind][tier];
      t["routed"] = c.routed;
      t["won"] = c.won;
      // null: nothing routed into the tier, so no rate
      t["rate"] = c.routed ? nlohmann::json(static_cast<double>(c.won) / static_cast<double>(c.routed)) : nlohmann::json();
    }
  }
  j["outcomes_unmatched"] = s.outcomes_unmatched;
  return j;
}

}  // namespace

BacktestResult Backtest(std::shared_ptr<const model::Model> baseline, std::shared_ptr<const model::Model> draft,
                        const std::string& history, std::ostream& errors, const BacktestOptions& options) {
  BacktestResult r;
  std::vector<codec::WireOutcome> outcomes;
  std::istringstream lines(history);
  for (std::string line; std::getline(lines, line);) {
    if (auto o = codec::OutcomeFromJson(line)) outcomes.push_back(std::move(*o));
  }
  r.outcomes = outcomes.size();
  ReplayLoopCounts counts;
  r.baseline = Run(baseline, history, outcomes, errors, options, &counts);
  // The same lines are bad in both runs: reported once.
  std::ostringstream again;
  r.draft = Run(draft, history, outcomes, again, options, &counts);
  r.lines = counts.lines;
  r.bad_lines = counts.bad_lines;
  for (const char* kind : {"lead", "account"}) {
    const auto& b = r.baseline.final_tier[kind];
    const auto& d = r.draft.final_tier[kind];
    std::map<std::string, std::pair<std::string, std::string>> both;
    for (const auto& [id, t] : b) both[id].first = t;
    for (const auto& [id, t] : d) both[id].second = t;
    r.changed[kind] = 0;
    for (auto& [id, tiers] : both) {
      if (tiers.first.empty()) tiers.first = "-";
      if (tiers.second.empty()) tiers.second = "-";
      ++r.matrix[kind][tiers.first][tiers.second];
      if (tiers.first != tiers.second) ++r.changed[kind];
    }
  }
  return r;
}

std::string BacktestText(const BacktestResult& r) {
  std::ostringstream os;
  char buf[256];
  os << "baseline " << r.baseline.model_version << ": " << r.baseline.routed << " routing events\n"
     << "draft    " << r.draft.model_version << ": " << r.draft.routed << " routing events\n"
     << r.lines << " lines, " << r.bad_lines << " bad, " << r.outcomes << " sales outcomes\n";
  for (const char* kind : {"lead", "account"}) {
    const auto tiers = TierOrder(r, kind);
    os << "\n" << kind << "s: routing volume (baseline -> draft)\n";
    std::snprintf(buf, sizeof buf, "  %-14s %15s %15s %12s %12s\n", "tier", "up", "down", "won/routed", "won/routed");
    os << buf;
    std::snprintf(buf, sizeof buf, "  %-14s %15s %15s %12s %12s\n", "", "", "", "baseline", "draft");
    os << buf;
    for (const auto& t : tiers) {
      const std::string up = std::to_string(Get(r.baseline.volume, kind, t, "up")) + " -> " +
                             std::to_string(Get(r.draft.volume, kind, t, "up"));
      const std::string down = std::to_string(Get(r.baseline.volume, kind, t, "down")) + " -> " +
                               std::to_string(Get(r.draft.volume, kind, t, "down"));
      const auto cb = ConversionOf(r.baseline, kind, t), cd = ConversionOf(r.draft, kind, t);
      const std::string wb = std::to_string(cb.won) + "/" + std::to_string(cb.routed) + " " + Rate(cb);
      const std::string wd = std::to_string(cd.won) + "/" + std::to_string(cd.routed) + " " + Rate(cd);
      std::snprintf(buf, sizeof buf, "  %-14s %15s %15s %12s %12s\n", t.c_str(), up.c_str(), down.c_str(),
                    r.outcomes ? wb.c_str() : "", r.outcomes ? wd.c_str() : "");
      os << buf;
    }
    os << kind << "s: final tier, baseline (rows) x draft (columns); " << r.changed.at(kind) << " changed\n";
    std::snprintf(buf, sizeof buf, "  %-14s", "");
    os << buf;
    for (const auto& t : tiers) {
      std::snprintf(buf, sizeof buf, " %12s", t.c_str());
      os << buf;
    }
    os << "\n";
    for (const auto& row : tiers) {
      std::snprintf(buf, sizeof buf, "  %-14s", row.c_str());
      os << buf;
      for (const auto& col : tiers) {
        std::snprintf(buf, sizeof buf, " %12llu", static_cast<unsigned long long>(Get(r.matrix, kind, row, col)));
        os << buf;
      }
      os << "\n";
    }
  }
  return os.str();
}

std::string BacktestJson(const BacktestResult& r) {
  nlohmann::json j;
  j["baseline"] = SideJson(r.baseline);
  j["draft"] = SideJson(r.draft);
  j["final_tier_matrix"] = r.matrix;
  j["entities_changed"] = r.changed;
  j["outcomes"] = r.outcomes;
  j["lines"] = r.lines;
  j["bad_lines"] = r.bad_lines;
  return j.dump(2);
}

std::string BacktestHtml(const BacktestResult& r) {
  // One page, no script, no link: it opens from a mail attachment or a CI artifact.
  std::ostringstream os;
  os << "<!doctype html><html><head><meta charset=\"utf-8\"><title>leadscore backtest</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}"
        "td.d{background:#eef6ee}td.x{background:#fbeaea;font-weight:bold}</style></head><body>"
     << "<h1>Backtest</h1><p>baseline <code>" << report::HtmlEscape(r.baseline.model_version) << "</code> ("
     << r.baseline.routed << " routing events) against draft <code>" << report::HtmlEscape(r.draft.model_version) << "</code> ("
     << r.draft.routed << " routing events); " << r.lines << " lines, " << r.outcomes << " sales outcomes.</p>";
  for (const char* kind : {"lead", "account"}) {
    const auto tiers = TierOrder(r, kind);
    os << "<h2>" << kind << "s</h2><table><tr><th>tier</th><th>up baseline</th><th>up draft</th><th>down baseline</th>"
       << "<th>down draft</th><th>won/routed baseline</th><th>won/routed draft</th></tr>";
    for (const auto& t : tiers) {
      const auto cb = ConversionOf(r.baseline, kind, t), cd = ConversionOf(r.draft, kind, t);
      os << "<tr><th>" << report::HtmlEscape(t) << "</th><td>" << Get(r.baseline.volume, kind, t, "up") << "</td><td>"
         << Get(r.draft.volume, kind, t, "up") << "</td><td>" << Get(r.baseline.volume, kind, t, "down")
         << "</td><td>" << Get(r.draft.volume, kind, t, "down") << "</td><td>" << cb.won << "/" << cb.routed << " "
         << Rate(cb) << "</td><td>" << cd.won << "/" << cd.routed << " " << Rate(cd) << "</td></tr>";
    }
    os << "</table><p>Final tier, baseline (rows) &times; draft (columns): " << r.changed.at(kind)
       << " changed.</p><table><tr><th></th>";
    for (const auto& t : tiers) os << "<th>" << report::HtmlEscape(t) << "</th>";
    os << "</tr>";
    for (const auto& row : tiers) {
      os << "<tr><th>" << report::HtmlEscape(row) << "</th>";
      for (const auto& col : tiers) {
        const uint64_t n = Get(r.matrix, kind, row, col);
        os << "<td class=\"" << (row == col ? "d" : n ? "x" : "") << "\">" << n << "</td>";
      }
      os << "</tr>";
    }
    os << "</table>";
  }
  os << "</body></html>\n";
  return os.str();
}

}  // namespace leadscore::cli
