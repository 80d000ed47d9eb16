#include "engine/tiers.h"

#include <charconv>
#include <string>

#include "common/time_units.h"

namespace leadscore::engine {

bool TierHolds(const model::Tier& t, const Measures& m, double relax) {
  if (t.min_score && m.score < *t.min_score - relax) return false;
  if (t.min_fit && m.fit < *t.min_fit - relax) return false;
  if (t.min_intent && m.intent < *t.min_intent - relax) return false;
  if (t.min_engaged_contacts && m.engaged_contacts < *t.min_engaged_contacts) return false;
  if (t.min_roles && m.engaged_roles < *t.min_roles) return false;
  return true;
}

namespace {
int16_t HighestHolding(const model::EntityPolicy& p, const Measures& m) {
  for (size_t j = 0; j < p.tiers.size(); ++j) {
    if (TierHolds(p.tiers[j], m, 0)) return static_cast<int16_t>(j);
  }
  return static_cast<int16_t>(p.tiers.size() - 1);  // validated to hold always
}
}  // namespace

int16_t DecideTier(const model::EntityPolicy& p, int16_t current, const Measures& m) {
  if (m.disqualified) return kDisqualifiedTier;
  if (m.suppressed) return kSuppressedTier;
  if (current == kDisqualifiedTier || current == kSuppressedTier) return HighestHolding(p, m);
  for (int16_t j = 0; j < current; ++j) {
    if (TierHolds(p.tiers[j], m, 0)) return j;  // UP to the highest tier that holds
  }
  if (!TierHolds(p.tiers[current], m, p.hysteresis)) return HighestHolding(p, m);
  return current;
}

namespace {
// disqualified < suppressed < the lowest tier < ... < the first tier.
int Rank(int16_t tier) {
  if (tier == kDisqualifiedTier) return -2;
  if (tier == kSuppressedTier) return -1;
  return INT16_MAX - tier;
}
}  // namespace

bool RanksAbove(int16_t to, int16_t from) { return Rank(to) > Rank(from); }

const std::string& TierName(const model::EntityPolicy& p, int16_t tier) {
  static const std::string kDisqualified = "disqualified", kSuppressed = "suppressed";
  if (tier == kDisqualifiedTier) return kDisqualified;
  if (tier == kSuppressedTier) return kSuppressed;
  return p.tiers[tier].name;
}

std::string FormatPoints(double v, double threshold, bool want_at_least) {
  // to_chars and from_chars: exact both ways, as printf and strtod are, without their
  // locale and format parsing (most of a routing event's reason in the engine's profile).
  // Room for any double in fixed notation (309 digits before the point at most), so
  // to_chars cannot run out of it.
  char buf[340];
  char* end = buf;
  for (int precision = 1; precision <= 9; ++precision) {
    end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision).ptr;
    double shown = 0;
    std::from_chars(buf, end, shown);
    if ((shown >= threshold) == want_at_least) break;
  }
  std::string s(buf, end);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

namespace {

void Append(std::string* out, const std::string& part) {
  if (!out->empty()) *out += ", ";
  *out += part;
}

// Each minimum of the tier, as "name value>=min" or "name value<min".
void DescribeMinimums(const model::Tier& t, const Measures& m, double relax, bool failing_only, std::string* out) {
  auto point = [&](const char* name, const std::optional<double>& min, double value) {
    if (!min) return;
    const double threshold = *min - relax;
    const bool holds = value >= threshold;
    if (failing_only && holds) return;
    const std::string shown = FormatPoints(value, threshold, holds);
    const std::string limit = FormatPoints(threshold, threshold, true);
    const auto dot = shown.find('.');
    if (!holds && dot != std::string::npos && shown.size() - dot > 3) {
      // Decay crossings happen a hair below the line; digits would only obscure it.
      Append(out, std::string(name) + " fell below " + limit);
      return;
    }
    Append(out, std::string(name) + " " + shown + (holds ? ">=" : "<") + limit);
  };
  auto count = [&](const char* name, const std::optional<int32_t>& min, int32_t value) {
    if (!min) return;
    const bool holds = value >= *min;
    if (failing_only && holds) return;
    Append(out, std::string(name) + " " + std::to_string(value) + (holds ? ">=" : "<") + std::to_string(*min));
  };
  point("score", t.min_score, m.score);
  point("fit", t.min_fit, m.fit);
  point("intent", t.min_intent, m.intent);
  count("contacts", t.min_engaged_contacts, m.engaged_contacts);
  count("roles", t.min_roles, m.engaged_roles);
}

}  // namespace

std::string TierReason(const model::Model& model, const model::EntityPolicy& p, int16_t from, int16_t to,
                       const Measures& m) {
  std::string out;
  if (to == kDisqualifiedTier) {
    return "disqualified: " + (m.disqualify_rule >= 0 ? model.disqualify[m.disqualify_rule].name : std::string("rule"));
  }
  if (to == kSuppressedTier) {
    const auto& kinds = model::kOutcomeKindNames;
    const bool known = m.suppressed_by > 0 && m.suppressed_by < static_cast<int>(kinds.size());
    return "suppressed: " + std::string(known ? kinds[m.suppressed_by] : "outcome") + " until " +
           FormatUtc(m.suppressed_until);
  }
  if (from == kDisqualifiedTier) out = "no disqualify rule matches";
  if (from == kSuppressedTier) out = "suppression ended";
  if (RanksAbove(to, from)) {
    DescribeMinimums(p.tiers[to], m, 0, false, &out);
  } else {
    std::string failed;
    DescribeMinimums(p.tiers[from], m, p.hysteresis, true, &failed);
    Append(&out, failed);
    if (p.hysteresis > 0) out += " (" + p.tiers[from].name + " minimums less hysteresis " + FormatPoints(p.hysteresis, 0, true) + ")";
  }
  return out;
}

}  // namespace leadscore::engine
