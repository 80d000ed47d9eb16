// The report as text tables on stdout: what a person reads first.
#include <cstdio>
#include <string>

#include "report/report.h"

namespace leadscore::report {
namespace {

std::string Format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string Pct(double x) { return Format("%5.1f%%", 100 * x); }

}  // namespace

std::string ToText(const Report& r) {
  std::string out;
  out += Format("calibration report: model %s, %llu routing events, %llu outcomes (%llu by routing_id, %llu by time, "
                "%llu unmatched)\n",
                r.model_version.c_str(), static_cast<unsigned long long>(r.routing_events),
                static_cast<unsigned long long>(r.outcomes), static_cast<unsigned long long>(r.matched_by_routing_id),
                static_cast<unsigned long long>(r.matched_by_time), static_cast<unsigned long long>(r.unmatched.size()));
  for (const auto& c : r.versions) {
    out += Format("\nmodel_version %s: %llu UP routing events (%llu DOWN not counted)\n", c.model_version.c_str(),
                  static_cast<unsigned long long>(c.up_events), static_cast<unsigned long long>(c.down_events));
    out += "\nper tier                 routed answered accepted rejected  opps   won  lost  conversion (95% CI)    "
           "median 1st answer  SLA met\n";
    for (const auto& t : c.tiers) {
      out += Format("  %-7s %-14s %6llu %8llu %8llu %8llu %5llu %5llu %5llu  %s [%s, %s]%s", t.entity.c_str(),
                    t.tier.c_str(), static_cast<unsigned long long>(t.routed),
                    static_cast<unsigned long long>(t.answered), static_cast<unsigned long long>(t.accepted),
                    static_cast<unsigned long long>(t.rejected), static_cast<unsigned long long>(t.opportunities),
                    static_cast<unsigned long long>(t.won), static_cast<unsigned long long>(t.lost),
                    Pct(t.conversion).c_str(), Pct(t.conversion_interval.low).c_str(),
                    Pct(t.conversion_interval.high).c_str(), t.small ? " small" : "      ");
      out += t.median_hours_to_first_answer ? Format("  %8.1f h", *t.median_hours_to_first_answer) : "         - ";
      out += t.with_sla ? Format("       %llu/%llu", static_cast<unsigned long long>(t.sla_met),
                                 static_cast<unsigned long long>(t.with_sla))
                        : "       -";
      out += "\n";
      if (!t.rejection_reasons.empty()) {
        out += "          rejected:";
        for (const auto& [reason, n] : t.rejection_reasons) {
          out += Format(" %s %llu", reason.c_str(), static_cast<unsigned long long>(n));
        }
        out += "\n";
      }
    }
    out += "\nper factor (conversion of routing events listing it vs not)\n";
    for (const auto& f : c.factors) {
      out += Format("  %-7s %-24s %-8s with %5llu: %s   without %5llu: %s   lift ", f.entity.c_str(), f.name.c_str(),
                    f.kind.c_str(), static_cast<unsigned long long>(f.with), Pct(f.conversion_with).c_str(),
                    static_cast<unsigned long long>(f.without), Pct(f.conversion_without).c_str());
      out += f.lift ? Format("%5.2f [%.2f, %.2f]", f.lift->value, f.lift->interval.low, f.lift->interval.high)
                    : std::string("    - (no win on a side)");
      out += f.small ? "  small\n" : "\n";
    }
    out += "\nscore bands\n";
    for (const auto& b : c.bands) {
      if (b.routed == 0) continue;
      out += Format("  %-7s %5.0f-%-5.0f routed %5llu won %4llu  %s [%s, %s]%s\n", b.entity.c_str(), b.from, b.to,
                    static_cast<unsigned long long>(b.routed), static_cast<unsigned long long>(b.won),
                    Pct(b.conversion).c_str(), Pct(b.conversion_interval.low).c_str(),
                    Pct(b.conversion_interval.high).c_str(), b.small ? " small" : "");
    }
  }
  out += "\n(small: fewer than 30 routing events; its interval says how little it shows)\n";
  if (r.suggestion) {
    const Suggestion& s = *r.suggestion;
    if (s.fitted_on == "lead states") {
      out += Format("\nsuggested model: logistic regressions (L2 %.2g, by cross-validation) of the lead getting an "
                    "opportunity within %lld days on its factor points, %llu lead states looked at weekly whose window "
                    "ends before the split (%llu with one), and of a deal being won, %llu deals opened and closed "
                    "before the split (%llu won%s); labels from outcomes before the split only; checked on the newest "
                    "%llu answered lead routing events\n",
                    s.l2, static_cast<long long>(kOpportunityHorizonDays), static_cast<unsigned long long>(s.train_events),
                    static_cast<unsigned long long>(s.train_won), static_cast<unsigned long long>(s.deals),
                    static_cast<unsigned long long>(s.deals_won), s.deals_used ? "" : "; too few, not used",
                    static_cast<unsigned long long>(s.test_events));
    } else {
      out += Format("\nsuggested model: logistic regression (L2 %.2g, by cross-validation) of the lead converting on "
                    "factor points, %llu older answered lead routing events (%llu converted); checked on the newest "
                    "%llu\n",
                    s.l2, static_cast<unsigned long long>(s.train_events), static_cast<unsigned long long>(s.train_won),
                    static_cast<unsigned long long>(s.test_events));
    }
    for (const auto& p : s.points) {
      out += Format("  %-8s %-24s points %7.1f -> %7.1f\n", p.kind.c_str(), p.name.c_str(), p.current, p.suggested);
    }
    for (const auto& t : s.tiers) {
      out += Format("  tier %-12s min_score %5.1f -> %5.1f  ", t.name.c_str(), t.current_min_score,
                    t.suggested_min_score);
      out += t.train_volume > 0
                 ? Format("(by volume: %llu leads at or above it before the split, running %llu)\n",
                          static_cast<unsigned long long>(t.draft_train_volume),
                          static_cast<unsigned long long>(t.train_volume))
             : t.target_conversion > 0 ? "(target conversion " + Pct(t.target_conversion) + " of answered)\n"
             : t.suggested_min_score == t.current_min_score
                 ? std::string("(no target: kept)\n")
                 : std::string("(no target: its distance to the tier above kept)\n");
    }
    const HeldOutCheck& h = s.held_out;
    out += Format("  held out: %llu events, %llu converted; at the running model's volume (%llu routed above its "
                  "lowest routed tier):\n    running model precision %s recall %s\n    draft model   precision %s "
                  "recall %s\n",
                  static_cast<unsigned long long>(h.events), static_cast<unsigned long long>(h.won),
                  static_cast<unsigned long long>(h.volume), Pct(h.running_precision).c_str(),
                  Pct(h.running_recall).c_str(), Pct(h.draft_precision).c_str(), Pct(h.draft_recall).c_str());
    for (const auto& w : h.wider) {
      out += Format("    at volume %4llu: running precision %s recall %s, draft precision %s recall %s\n",
                    static_cast<unsigned long long>(w.volume), Pct(w.running_precision).c_str(),
                    Pct(w.running_recall).c_str(), Pct(w.draft_precision).c_str(), Pct(w.draft_recall).c_str());
    }
    if (s.replayed) {
      const ReplayedCheck& c = *s.replayed;
      out += Format("  held out, replayed (both models over the whole input, leads routed after the split): running "
                    "%llu (%llu priority), draft %llu (%llu priority)\n",
                    static_cast<unsigned long long>(c.running_routed), static_cast<unsigned long long>(c.running_priority),
                    static_cast<unsigned long long>(c.draft_routed), static_cast<unsigned long long>(c.draft_priority));
      for (const auto& a : c.at) {
        const double v = a.volume ? static_cast<double>(a.volume) : 1;
        out += Format("    at the running model's %s volume (%llu): running %llu converted (%s), draft %llu (%s)\n",
                      a.volume_of.c_str(), static_cast<unsigned long long>(a.volume),
                      static_cast<unsigned long long>(a.running_converted),
                      Pct(static_cast<double>(a.running_converted) / v).c_str(),
                      static_cast<unsigned long long>(a.draft_converted),
                      Pct(static_cast<double>(a.draft_converted) / v).c_str());
      }
    }
    for (const auto& n : s.notes) out += "  note: " + n + "\n";
  }
  return out;
}

}  // namespace leadscore::report
