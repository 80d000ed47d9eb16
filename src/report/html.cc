// The report as one page for a sales or RevOps lead: plots as inline SVG, styles inline,
// no script and nothing fetched, so it opens from a mail attachment or a file share.
// Every plot has its numbers in a table beside it; small samples are drawn pale and
// say so, never left out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "report/report.h"

namespace leadscore::report {
namespace {

constexpr const char* kBlue = "#2b6cb0";
constexpr const char* kPale = "#a0b4c8";
constexpr const char* kGreen = "#2f855a";
constexpr const char* kRed = "#c53030";

std::string F(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string Pct(double x) { return F("%.1f%%", 100 * x); }

std::string Text(double x, double y, std::string_view s, const char* anchor = "start", int size = 12,
                 const char* fill = "#1a202c") {
  return F("<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" fill=\"%s\">", x, y, size, anchor, fill) +
         HtmlEscape(s) + "</text>";
}

std::string Line(double x1, double y1, double x2, double y2, const char* stroke, double width = 1,
                 const char* dash = "") {
  return F("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>", x1, y1, x2,
           y2, stroke, width, *dash ? (std::string(" stroke-dasharray=\"") + dash + "\"").c_str() : "");
}

std::string Rect(double x, double y, double w, double h, const char* fill) {
  return F("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", x, y, std::max(0.0, w), h, fill);
}

// Horizontal bars on a 0..max scale with optional interval whiskers: one row per label.
struct Bar {
  std::string label, note;
  double value = 0;
  std::optional<Interval> interval;
  bool pale = false;
  const char* color = kBlue;
};
std::string Bars(const std::vector<Bar>& bars, double max, bool percent) {
  const double left = 190, width = 560, row = 26, top = 20;
  const double h = top + row * static_cast<double>(bars.size()) + 24;
  std::string s = F("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" role=\"img\">",
                    left + width + 170, h);
  for (int k = 0; k <= 4; ++k) {
    const double x = left + width * k / 4;
    s += Line(x, top - 6, x, h - 20, "#e2e8f0");
    s += Text(x, h - 6, percent ? Pct(max * k / 4) : F("%.0f", max * k / 4), "middle", 11, "#4a5568");
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = top + row * static_cast<double>(i);
    const double scale = max > 0 ? width / max : 0;
    s += Text(left - 8, y + 15, b.label, "end");
    s += Rect(left, y + 4, b.value * scale, row - 10, b.pale ? kPale : b.color);
    if (b.interval) {
      const double x1 = left + b.interval->low * scale, x2 = left + std::min(max, b.interval->high) * scale;
      s += Line(x1, y + row / 2 - 1, x2, y + row / 2 - 1, "#1a202c", 1.5);
      s += Line(x1, y + 6, x1, y + row - 8, "#1a202c", 1.5);
      s += Line(x2, y + 6, x2, y + row - 8, "#1a202c", 1.5);
    }
    s += Text(left + width + 8, y + 15, (percent ? Pct(b.value) : F("%.0f", b.value)) + "  " + b.note, "start", 11,
              "#4a5568");
  }
  return s + "</svg>";
}

// Conversion by score band: points with their intervals, a line through them, per entity.
std::string BandCurve(const std::vector<BandRow>& bands, const std::string& entity) {
  const double left = 60, top = 20, width = 640, height = 220;
  std::string s = F("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" role=\"img\">",
                    left + width + 30, top + height + 50);
  for (int k = 0; k <= 4; ++k) {
    const double y = top + height - height * k / 4;
    s += Line(left, y, left + width, y, "#e2e8f0");
    s += Text(left - 6, y + 4, Pct(0.25 * k), "end", 11, "#4a5568");
  }
  for (int k = 0; k <= 10; ++k) {
    const double x = left + width * k / 10;
    s += Text(x, top + height + 16, F("%d", k * 10), "middle", 11, "#4a5568");
  }
  s += Text(left + width / 2, top + height + 36, entity + " score at routing", "middle", 12, "#4a5568");
  auto X = [&](double score) { return left + width * score / 100; };
  auto Y = [&](double p) { return top + height - height * p; };
  std::string path;
  for (const auto& b : bands) {
    if (b.entity != entity || b.routed == 0) continue;
    const double x = X((b.from + b.to) / 2);
    s += Line(x, Y(b.conversion_interval.low), x, Y(b.conversion_interval.high), b.small ? kPale : "#1a202c", 1.5);
    s += F("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>", x, Y(b.conversion),
           3 + std::min(6.0, std::sqrt(static_cast<double>(b.routed)) / 2), b.small ? kPale : kBlue);
    s += Text(x + 8, Y(b.conversion) - 6, F("n=%llu", static_cast<unsigned long long>(b.routed)), "start", 10,
              "#4a5568");
    path += (path.empty() ? "M" : " L") + F("%.1f %.1f", x, Y(b.conversion));
  }
  if (!path.empty()) s += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + kBlue + "\" stroke-width=\"2\"/>";
  return s + "</svg>";
}

// Lift per factor on a log scale, 1 (no difference) marked: a forest plot.
std::string Forest(const std::vector<FactorRow>& rows) {
  const double left = 260, width = 440, row = 24, top = 20, lo = std::log(0.05), hi = std::log(20.0);
  const double h = top + row * static_cast<double>(rows.size()) + 28;
  std::string s = F("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" role=\"img\">",
                    left + width + 330, h);
  auto X = [&](double v) { return left + width * (std::clamp(std::log(v), lo, hi) - lo) / (hi - lo); };
  for (double v : {0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0}) {
    s += Line(X(v), top - 6, X(v), h - 22, v == 1.0 ? "#4a5568" : "#e2e8f0", v == 1.0 ? 1.5 : 1);
    s += Text(X(v), h - 8, F("%g", v), "middle", 11, "#4a5568");
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const FactorRow& f = rows[i];
    const double y = top + row * static_cast<double>(i) + row / 2;
    s += Text(left - 8, y + 4, f.entity + " · " + f.name, "end");
    if (!f.lift) {
      s += Text(left + 6, y + 4, "no win on one side: no ratio", "start", 11, "#718096");
      continue;
    }
    const char* color = f.small ? kPale : f.lift->interval.low > 1 ? kGreen : f.lift->interval.high < 1 ? kRed : kBlue;
    s += Line(X(f.lift->interval.low), y, X(f.lift->interval.high), y, color, 2);
    s += F("<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"%s\"/>", X(f.lift->value) - 4.5, y - 4.5,
           color);
    s += Text(left + width + 8, y + 4,
              F("%.2f [%.2f, %.2f]  %s vs %s", f.lift->value, f.lift->interval.low, f.lift->interval.high,
                Pct(f.conversion_with).c_str(), Pct(f.conversion_without).c_str()) +
                  (f.small ? "  small" : ""),
              "start", 11, "#4a5568");
  }
  return s + "</svg>";
}

std::string N(uint64_t n) { return std::to_string(n); }

std::string TierLabel(const TierRow& t) { return t.entity + " · " + t.tier; }

// A few sentences a sales lead can read before the plots: only what the intervals
// support (a lift whose whole interval is on one side of 1).
std::string InShort(const Calibration& c) {
  std::vector<std::string> lines;
  for (const std::string entity : {"lead", "account"}) {
    std::vector<const TierRow*> routed;
    for (const auto& t : c.tiers) {
      if (t.entity == entity && t.routed > 0) routed.push_back(&t);
    }
    if (routed.size() >= 2) {
      std::string line = "Conversion of " + entity + " tiers, top to bottom: ";
      for (size_t i = 0; i < routed.size(); ++i) {
        line += (i ? ", " : "") + routed[i]->tier + " " + Pct(routed[i]->conversion) +
                (routed[i]->small ? " (small)" : "");
      }
      bool ordered = true;
      for (size_t i = 1; i < routed.size(); ++i) ordered &= routed[i - 1]->conversion >= routed[i]->conversion;
      lines.push_back(line + (ordered ? " — each tier converts at least as well as the one below."
                                      : " — not in tier order: a higher tier converts worse than a lower one."));
    }
  }
  std::vector<std::string> up, down;
  for (const auto& f : c.factors) {
    if (!f.lift || f.small) continue;
    if (f.lift->interval.low > 1) up.push_back(f.entity + " " + f.name + F(" (×%.1f)", f.lift->value));
    if (f.lift->interval.high < 1) down.push_back(f.entity + " " + f.name + F(" (×%.2f)", f.lift->value));
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
    return out;
  };
  if (!up.empty()) lines.push_back("Clearly more wins when listed: " + list(up) + ".");
  if (!down.empty()) lines.push_back("Clearly fewer wins when listed: " + list(down) + ".");
  for (const auto& t : c.tiers) {
    if (t.with_sla >= 10 && t.sla_met * 2 < t.with_sla) {
      lines.push_back(TierLabel(t) + ": the SLA was met for " + N(t.sla_met) + " of " + N(t.with_sla) +
                      " routings (" + N(t.routed - t.answered) + " never answered).");
    }
  }
  if (lines.empty()) return "";
  std::string h = "<h2>In short</h2><ul>";
  for (const auto& l : lines) h += "<li>" + HtmlEscape(l) + "</li>";
  return h + "</ul>";
}

}  // namespace

std::string ToHtml(const Report& r) {
  std::string h =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>leadscore calibration report</title>"
      "<style>body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1a202c;margin:32px;"
      "max-width:1120px;background:#fff}h1{font-size:26px;margin-bottom:4px}h2{font-size:19px;margin-top:34px;"
      "border-bottom:2px solid #e2e8f0;padding-bottom:4px}p.lead{color:#4a5568;margin-top:2px}"
      "table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{padding:3px 10px;text-align:right;"
      "border-bottom:1px solid #edf2f7}th{background:#f7fafc}td:first-child,th:first-child{text-align:left}"
      ".small{color:#718096}.kpi{display:inline-block;margin:10px 26px 6px 0}.kpi b{display:block;font-size:26px;"
      "color:#2b6cb0}.note{color:#4a5568;font-size:13px}li{margin:4px 0}</style></head><body>\n";
  h += "<h1>Does the score predict who buys?</h1><p class=\"lead\">leadscore calibration report · model <code>" +
       HtmlEscape(r.model_version) + "</code></p>\n";
  h += "<div class=\"kpi\"><b>" + N(r.routing_events) + "</b>routing events</div><div class=\"kpi\"><b>" +
       N(r.outcomes) + "</b>sales outcomes</div><div class=\"kpi\"><b>" +
       N(r.matched_by_routing_id + r.matched_by_time) + "</b>answered a routing event</div><div class=\"kpi\"><b>" +
       N(r.unmatched.size()) + "</b>answered none (kept, listed below)</div>\n";
  for (const Calibration& c : r.versions) {
    if (r.versions.size() > 1) h += "<h2>Model version " + HtmlEscape(c.model_version) + "</h2>";
    h += InShort(c);
    // Conversion per tier.
    std::vector<Bar> conv, sla;
    double max_conv = 0.1;
    for (const auto& t : c.tiers) {
      conv.push_back({TierLabel(t), F("n=%llu", static_cast<unsigned long long>(t.routed)) + (t.small ? " small" : ""),
                      t.conversion, t.routed ? std::optional(t.conversion_interval) : std::nullopt, t.small});
      if (t.routed) max_conv = std::max(max_conv, t.conversion_interval.high);
      if (t.with_sla) {
        const double met = static_cast<double>(t.sla_met) / static_cast<double>(t.with_sla);
        sla.push_back({TierLabel(t), F("%llu of %llu", static_cast<unsigned long long>(t.sla_met),
                                       static_cast<unsigned long long>(t.with_sla)),
                       met, Wilson(t.sla_met, t.with_sla), t.with_sla < 30, kGreen});
      }
    }
    h += "<h2>Conversion per tier</h2><p class=\"note\">Won ÷ routed (UP routing events into the tier), with its 95 % "
         "interval (Wilson). Pale bars: fewer than 30 routed, read the interval, not the bar.</p>";
    h += Bars(conv, std::min(1.0, std::ceil(max_conv * 10) / 10), true);
    h += "<table><tr><th>tier</th><th>routed</th><th>answered</th><th>accepted</th><th>rejected</th><th>opportunities"
         "</th><th>won</th><th>lost</th><th>conversion</th><th>95 % interval</th><th>median 1st answer</th><th>SLA met"
         "</th></tr>";
    for (const auto& t : c.tiers) {
      h += std::string("<tr") + (t.small ? " class=\"small\"" : "") + "><td>" + HtmlEscape(TierLabel(t)) + "</td><td>" +
           N(t.routed) + "</td><td>" + N(t.answered) + "</td><td>" + N(t.accepted) + "</td><td>" + N(t.rejected) +
           "</td><td>" + N(t.opportunities) + "</td><td>" + N(t.won) + "</td><td>" + N(t.lost) + "</td><td>" +
           Pct(t.conversion) + "</td><td>" + Pct(t.conversion_interval.low) + " – " + Pct(t.conversion_interval.high) +
           "</td><td>" + (t.median_hours_to_first_answer ? F("%.1f h", *t.median_hours_to_first_answer) : "–") +
           "</td><td>" + (t.with_sla ? N(t.sla_met) + " / " + N(t.with_sla) : "no SLA") + "</td></tr>";
    }
    h += "</table>\n";

    h += "<h2>Is a higher score more likely to buy?</h2><p class=\"note\">Conversion of the routing events by their "
         "score at routing, in bands of 10; dot size grows with the count, bars are 95 % intervals.</p>";
    for (const std::string entity : {"lead", "account"}) {
      if (std::any_of(c.bands.begin(), c.bands.end(), [&](const auto& b) { return b.entity == entity && b.routed; })) {
        h += BandCurve(c.bands, entity);
      }
    }

    h += "<h2>Which signals and fit rules go with a win?</h2><p class=\"note\">Lift: conversion of the routing events "
         "that listed the factor among their top five, divided by the conversion of those that did not (Katz 95 % "
         "interval, log scale). Green: surely more than 1; red: surely less; pale: a side has fewer than 30.</p>";
    h += Forest(c.factors);

    h += "<h2>SLA met per tier</h2><p class=\"note\">Routing events with an SLA whose first answer came by "
         "sla_due_at_ms; unanswered ones count as missed.</p>";
    h += sla.empty() ? std::string("<p class=\"note\">No tier with an SLA was routed.</p>") : Bars(sla, 1, true);

    std::map<std::string, uint64_t> reasons;
    for (const auto& t : c.tiers) {
      for (const auto& [reason, n] : t.rejection_reasons) reasons[reason] += n;
    }
    h += "<h2>Why sales rejected</h2>";
    if (reasons.empty()) {
      h += "<p class=\"note\">No rejection.</p>";
    } else {
      std::vector<Bar> bars;
      double max = 1;
      for (const auto& [reason, n] : reasons) {
        bars.push_back({reason, "", static_cast<double>(n), std::nullopt, false, kRed});
        max = std::max(max, static_cast<double>(n));
      }
      std::sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.value > b.value; });
      h += Bars(bars, max, false);
    }
  }

  if (r.suggestion) {
    const Suggestion& s = *r.suggestion;
    const std::string on =
        s.fitted_on == "lead states"
            ? "of the lead getting an opportunity within " + std::to_string(kOpportunityHorizonDays) +
                  " days on each factor's points, on every lead's state looked at weekly whose window ends before the "
                  "split (" + N(s.train_events) + ", " + N(s.train_won) + " with one), and of a deal being won (" +
                  N(s.deals) + " opened and closed before the split, " + N(s.deals_won) + " won" +
                  (s.deals_used ? "" : "; too few, not used") + "); labels from outcomes before the split only"
            : "of the lead converting on each factor's points, on the older 70 % of answered lead routing events (" +
                  N(s.train_events) + ", " + N(s.train_won) + " converted)";
    h += "<h2>Suggested changes</h2><p class=\"note\">Points fitted to the outcomes: L2-regularised logistic "
         "regression (L2 " + F("%.2g", s.l2) + ", by cross-validation) " + on + ", rescaled to the model's points. "
         "A draft, for "
         "<code>leadscore backtest</code> before anyone runs it.</p><table><tr><th>signal / fit rule</th><th>kind</th>"
         "<th>now</th><th>suggested</th></tr>";
    for (const auto& p : s.points) {
      h += "<tr><td>" + HtmlEscape(p.name) + "</td><td>" + HtmlEscape(p.kind) + "</td><td>" + F("%.1f", p.current) + "</td><td>" +
           F("%.1f", p.suggested) + "</td></tr>";
    }
    h += "</table><table><tr><th>tier</th><th>min_score now</th><th>suggested</th><th>set by</th></tr>";
    for (const auto& t : s.tiers) {
      h += "<tr><td>" + HtmlEscape(t.name) + "</td><td>" + F("%.1f", t.current_min_score) + "</td><td>" +
           F("%.1f", t.suggested_min_score) + "</td><td>" +
           (t.train_volume > 0 ? "volume: " + N(t.draft_train_volume) + " leads before the split (running " +
                                     N(t.train_volume) + ")"
                               : "target conversion " + Pct(t.target_conversion)) +
           "</td></tr>";
    }
    const HeldOutCheck& k = s.held_out;
    h += "</table><p class=\"note\">Held out: the newest " + N(k.events) + " answered lead routing events (" +
         N(k.won) + " converted), re-scored with the draft's points. Each model picks its highest scores; at the "
         "running model's volume (" + N(k.volume) + " routed above its lowest routed tier):</p>";
    h += Bars({{"running model precision", "", k.running_precision, std::nullopt, false, kPale},
               {"draft model precision", "", k.draft_precision, std::nullopt, false, kBlue},
               {"running model recall", "", k.running_recall, std::nullopt, false, kPale},
               {"draft model recall", "", k.draft_recall, std::nullopt, false, kBlue}},
              1, true);
    h += "<table><tr><th>volume</th><th>running precision</th><th>draft precision</th><th>running recall</th>"
         "<th>draft recall</th></tr>";
    for (const auto& w : k.wider) {
      h += "<tr><td>" + N(w.volume) + "</td><td>" + Pct(w.running_precision) + "</td><td>" + Pct(w.draft_precision) +
           "</td><td>" + Pct(w.running_recall) + "</td><td>" + Pct(w.draft_recall) + "</td></tr>";
    }
    h += "</table>";
    if (s.replayed) {
      const ReplayedCheck& c = *s.replayed;
      h += "<p class=\"note\">Held out, replayed: both models over the whole input, each routing its own leads; "
           "after the split the running model routed " + N(c.running_routed) + " leads (" + N(c.running_priority) +
           " to its priority tiers), the draft " + N(c.draft_routed) + " (" + N(c.draft_priority) +
           "). Each picks the same number of its routed leads, best tier then score first; converted: a "
           "CLOSED_WON at or after the lead's first routing.</p><table><tr><th>at the running model's</th>"
           "<th>volume</th><th>running converted</th><th>draft converted</th></tr>";
      for (const auto& a : c.at) {
        h += "<tr><td>" + HtmlEscape(a.volume_of) + " volume</td><td>" + N(a.volume) + "</td><td>" +
             N(a.running_converted) + "</td><td>" + N(a.draft_converted) + "</td></tr>";
      }
      h += "</table>";
    }
    for (const auto& n : s.notes) h += "<p class=\"note\">" + HtmlEscape(n) + "</p>";
  }

  if (!r.unmatched.empty()) {
    h += "<h2>Outcomes that answered no routing event</h2><p class=\"note\">No routing_id known, and no UP routing of "
         "the lead (or account) at or before them. The first 20:</p><table><tr><th>lead</th><th>account</th>"
         "<th>routing_id</th><th>kind</th><th>reason</th></tr>";
    for (size_t i = 0; i < r.unmatched.size() && i < 20; ++i) {
      const auto& o = r.unmatched[i];
      h += "<tr><td>" + HtmlEscape(o.lead_id) + "</td><td>" + HtmlEscape(o.account_id) + "</td><td>" + HtmlEscape(o.routing_id) +
           "</td><td>" + std::string(KindName(o.kind)) + "</td><td>" + HtmlEscape(o.reason) + "</td></tr>";
    }
    h += "</table>";
  }
  h += "<p class=\"note\">Made by <code>leadscore report</code>. Small samples (fewer than 30) are shown pale and "
       "flagged: their intervals are wide on purpose.</p></body></html>\n";
  return h;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace leadscore::report
