// Loads and validates a model file. Every problem is collected with its line number;
// nothing throws past this file and a bad model never yields a Model.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "common/hash.h"
#include "model/model.h"

namespace leadscore::model {
namespace {

using KeySet = std::set<std::string, std::less<>>;

std::optional<double> ParseNumber(const std::string& s) {
  double v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

class Loader {
 public:
  LoadResult Load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      Error(e.mark.line + 1, "not valid YAML: " + e.msg);
      return Finish();
    }
    if (!root.IsMap()) {
      Error(root, "the model must be a mapping with fit, intent, lead and account");
      return Finish();
    }
    model_ = std::make_shared<Model>();
    CheckKeys(root, "model", {"version", "fit", "intent", "filters", "lead", "account", "feedback"});
    if (root["version"]) model_->version_label = String(root["version"], "version");
    // Committee roles first: conditions on lead.role are checked against them.
    if (Require(root, "account", "model")) {
      if (YAML::Node c = root["account"]["committee"]; c && c.IsMap()) LoadCommittee(c);
    }
    if (Require(root, "intent", "model")) LoadIntent(root["intent"]);
    if (Require(root, "fit", "model")) LoadFit(root["fit"]);
    if (root["filters"]) LoadFilters(root["filters"]);
    if (Require(root, "lead", "model")) LoadPolicy(root["lead"], "lead", false, &model_->lead);
    if (Require(root, "account", "model")) {
      LoadPolicy(root["account"], "account", true, &model_->account);
      LoadAccountCaps(root["account"]);
    }
    if (root["feedback"]) LoadFeedback(root["feedback"]);
    LoadFactorNamesUnique();
    if (problems_.empty()) {
      WarnUnreachable(root["lead"], "lead", false, model_->lead);
      WarnUnreachable(root["account"], "account", true, model_->account);
    }
    model_->version = VersionOf(root);
    model_->legacy_version = LegacyVersionOf(root);
    return Finish();
  }

 private:
  // --- problems -------------------------------------------------------------------
  void Error(int line, std::string msg) { problems_.push_back({line, std::move(msg)}); }
  void Error(const YAML::Node& n, std::string msg) {
    Error(n.Mark().line >= 0 ? n.Mark().line + 1 : 0, std::move(msg));
  }

  LoadResult Finish() {
    LoadResult r;
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    r.problems = std::move(problems_);
    r.warnings = std::move(warnings_);
    if (r.problems.empty() && model_) r.model = std::move(model_);
    return r;
  }

  // --- typed access -----------------------------------------------------------------
  void CheckKeys(const YAML::Node& map, const std::string& where, const KeySet& allowed) {
    if (!map.IsMap()) return;
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Error(kv.first, "unknown key '" + key + "' in " + where + " (expected one of: " + list + ")");
      }
    }
  }

  bool Require(const YAML::Node& map, const char* key, const std::string& where) {
    if (map[key]) return true;
    Error(map, "missing '" + std::string(key) + "' in " + where);
    return false;
  }

  std::string String(const YAML::Node& n, const std::string& where) {
    if (!n.IsScalar()) {
      Error(n, where + " must be a text");
      return {};
    }
    return n.Scalar();
  }

  std::optional<double> Number(const YAML::Node& n, const std::string& where) {
    if (n.IsScalar()) {
      if (auto v = ParseNumber(n.Scalar())) return v;
    }
    Error(n, where + " must be a number" + (n.IsScalar() ? ", not '" + n.Scalar() + "'" : ""));
    return std::nullopt;
  }

  std::optional<double> NumberIn(const YAML::Node& n, const std::string& where, double lo, double hi) {
    auto v = Number(n, where);
    if (v && (*v < lo || *v > hi)) {
      std::ostringstream os;
      os << where << " must be between " << lo << " and " << hi << ", not " << *v;
      Error(n, os.str());
      return std::nullopt;
    }
    return v;
  }

  std::optional<Duration> DurationOf(const YAML::Node& n, const std::string& where, bool business_days) {
    if (!n.IsScalar()) {
      Error(n, where + " must be a duration such as 7d");
      return std::nullopt;
    }
    auto d = ParseDuration(n.Scalar(), business_days);
    if (!d.ok()) {
      Error(n, where + ": " + d.status().message());
      return std::nullopt;
    }
    if (!d->is_business_days() && d->ms <= 0) {
      Error(n, where + " must be longer than zero");
      return std::nullopt;
    }
    return *d;
  }

  // --- conditions -------------------------------------------------------------------
  struct FieldRef {
    Source source;
    uint16_t slot;
    enum Kind { kText, kNumber, kAttribute } kind;
  };

  std::optional<FieldRef> ResolveField(const YAML::Node& key, bool allow_event) {
    const std::string path = key.Scalar();
    auto slot_of = [](std::vector<std::string>& names, const std::string& attr) {
      auto it = std::find(names.begin(), names.end(), attr);
      if (it != names.end()) return static_cast<uint16_t>(it - names.begin());
      names.push_back(attr);
      return static_cast<uint16_t>(names.size() - 1);
    };
    auto attribute_name = [&](const std::string& prefix) -> std::optional<std::string> {
      if (path.rfind(prefix, 0) != 0) return std::nullopt;
      std::string name = path.substr(prefix.size());
      if (name.empty()) return std::nullopt;
      return name;
    };
    FieldLayout& layout = model_->layout;
    if (auto a = attribute_name("lead.attributes.")) {
      return FieldRef{Source::kLead, static_cast<uint16_t>(kLeadFixedFields + slot_of(layout.lead_attributes, *a)),
                      FieldRef::kAttribute};
    }
    if (auto a = attribute_name("account.attributes.")) {
      return FieldRef{Source::kAccount,
                      static_cast<uint16_t>(kAccountFixedFields + slot_of(layout.account_attributes, *a)),
                      FieldRef::kAttribute};
    }
    if (auto a = attribute_name("event.attributes.")) {
      if (!allow_event) {
        Error(key, "'" + path + "': event fields can only be used in intent multipliers and filters");
        return std::nullopt;
      }
      return FieldRef{Source::kEvent, slot_of(layout.event_attributes, *a), FieldRef::kAttribute};
    }
    static const std::unordered_map<std::string, FieldRef> kFixed = {
        {"lead.role", {Source::kLead, kLeadRole, FieldRef::kText}},
        {"lead.seniority", {Source::kLead, kLeadSeniority, FieldRef::kText}},
        {"lead.title", {Source::kLead, kLeadTitle, FieldRef::kText}},
        {"lead.country", {Source::kLead, kLeadCountry, FieldRef::kText}},
        {"lead.email_domain", {Source::kLead, kLeadEmailDomain, FieldRef::kText}},
        {"account.name", {Source::kAccount, kAccountName, FieldRef::kText}},
        {"account.industry", {Source::kAccount, kAccountIndustry, FieldRef::kText}},
        {"account.employee_count", {Source::kAccount, kAccountEmployeeCount, FieldRef::kNumber}},
        {"account.annual_revenue", {Source::kAccount, kAccountAnnualRevenue, FieldRef::kNumber}},
        {"account.country", {Source::kAccount, kAccountCountry, FieldRef::kText}},
        {"account.market", {Source::kAccount, kAccountMarket, FieldRef::kText}},
    };
    auto it = kFixed.find(path);
    if (it != kFixed.end()) return it->second;
    Error(key, "unknown field '" + path +
                   "' (lead.role|seniority|title|country|email_domain, account.name|industry|"
                   "employee_count|annual_revenue|country|market, lead.attributes.*, "
                   "account.attributes.*" + (allow_event ? ", event.attributes.*)" : ")"));
    return std::nullopt;
  }

  ConditionSet LoadWhen(const YAML::Node& when, const std::string& where, bool allow_event) {
    ConditionSet set;
    if (!when || !when.IsMap() || when.size() == 0) {
      Error(when ? when : YAML::Node(), where + ": 'when' must be a non-empty mapping of field: {operator: value}");
      return set;
    }
    for (const auto& kv : when) {
      auto field = ResolveField(kv.first, allow_event);
      const YAML::Node& opmap = kv.second;
      if (!opmap.IsMap() || opmap.size() != 1) {
        Error(kv.second, where + ": '" + kv.first.Scalar() +
                             "' needs exactly one operator: { eq | in | not_in | gte | lte | between | exists: ... }");
        continue;
      }
      if (!field) continue;
      auto op_kv = *opmap.begin();
      if (auto c = LoadCondition(*field, kv.first.Scalar(), op_kv.first, op_kv.second, where)) {
        set.all.push_back(std::move(*c));
      }
    }
    return set;
  }

  std::optional<Condition> LoadCondition(const FieldRef& f, const std::string& path, const YAML::Node& op_node,
                                         const YAML::Node& arg, const std::string& where) {
    static const std::unordered_map<std::string, Op> kOps = {
        {"eq", Op::kEq},   {"in", Op::kIn},   {"not_in", Op::kNotIn},  {"gte", Op::kGte},
        {"lte", Op::kLte}, {"between", Op::kBetween}, {"exists", Op::kExists}};
    const std::string op_name = op_node.Scalar();
    auto it = kOps.find(op_name);
    if (it == kOps.end()) {
      Error(op_node, where + ": unknown operator '" + op_name + "' (eq, in, not_in, gte, lte, between, exists)");
      return std::nullopt;
    }
    Condition c;
    c.source = f.source;
    c.slot = f.slot;
    c.op = it->second;
    const std::string ctx = where + ": " + path + " " + op_name;
    bool ok = true;
    switch (c.op) {
      case Op::kExists:
        if (!arg.IsScalar() || (arg.Scalar() != "true" && arg.Scalar() != "false")) {
          Error(arg, ctx + " takes true or false");
          return std::nullopt;
        }
        c.exists_expected = arg.Scalar() == "true";
        return c;
      case Op::kGte:
      case Op::kLte:
      case Op::kBetween: {
        if (f.kind == FieldRef::kText) {
          Error(op_node, ctx + ": " + path + " is a text field; use eq, in or not_in");
          return std::nullopt;
        }
        c.numeric = true;
        if (c.op == Op::kBetween) {
          if (!arg.IsSequence() || arg.size() != 2) {
            Error(arg, ctx + " takes [low, high]");
            return std::nullopt;
          }
          auto lo = Number(arg[0], ctx), hi = Number(arg[1], ctx);
          if (!lo || !hi) return std::nullopt;
          if (*lo > *hi) {
            Error(arg, ctx + ": low is above high");
            return std::nullopt;
          }
          c.lo = *lo;
          c.hi = *hi;
        } else {
          auto v = Number(arg, ctx);
          if (!v) return std::nullopt;
          c.lo = c.hi = *v;
        }
        return c;
      }
      case Op::kEq:
      case Op::kIn:
      case Op::kNotIn: {
        std::vector<YAML::Node> values;
        if (c.op == Op::kEq) {
          if (!arg.IsScalar()) {
            Error(arg, ctx + " takes one value");
            return std::nullopt;
          }
          values.push_back(arg);
        } else {
          if (!arg.IsSequence() || arg.size() == 0) {
            Error(arg, ctx + " takes a non-empty list");
            return std::nullopt;
          }
          for (const auto& v : arg) values.push_back(v);
        }
        c.numeric = f.kind == FieldRef::kNumber;
        for (const YAML::Node& v : values) {
          if (!v.IsScalar()) {
            Error(v, ctx + ": values must be plain scalars");
            ok = false;
            continue;
          }
          if (c.numeric) {
            if (auto n = Number(v, ctx)) c.numbers.push_back(*n);
            else ok = false;
          } else {
            if (f.source == Source::kLead && f.slot == kLeadRole && !committee_roles_.count(v.Scalar())) {
              Error(v, ctx + ": role '" + v.Scalar() + "' is not a role of account.committee.roles");
              ok = false;
            }
            c.symbols.push_back(model_->symbols.Intern(v.Scalar()));
          }
        }
        if (!ok) return std::nullopt;
        return c;
      }
    }
    return std::nullopt;
  }

  // --- sections ---------------------------------------------------------------------
  void LoadCommittee(const YAML::Node& c) {
    CheckKeys(c, "account.committee", {"roles", "role_min_intent", "contact_window"});
    Committee& com = model_->committee;
    if (Require(c, "roles", "account.committee")) {
      const YAML::Node roles = c["roles"];
      if (!roles.IsMap() || roles.size() == 0) {
        Error(roles, "account.committee.roles must be a mapping of role: weight");
      } else {
        for (const auto& kv : roles) {
          std::string role = kv.first.Scalar();
          auto w = Number(kv.second, "committee role '" + role + "' weight");
          if (w && *w <= 0) {
            Error(kv.second, "committee role '" + role + "' weight must be above zero");
            w.reset();
          }
          if (!w) continue;
          committee_roles_.insert(role);
          com.roles.push_back(role);
          com.weights.push_back(*w);
          com.total_weight += *w;
        }
        if (com.roles.size() > 64) Error(roles, "account.committee.roles: at most 64 roles");
      }
    }
    if (Require(c, "role_min_intent", "account.committee")) {
      auto v = Number(c["role_min_intent"], "account.committee.role_min_intent");
      if (v && *v <= 0) Error(c["role_min_intent"], "account.committee.role_min_intent must be above zero");
      else if (v) com.role_min_intent = *v;
    }
    if (c["contact_window"]) {
      if (auto d = DurationOf(c["contact_window"], "account.committee.contact_window", false)) {
        com.contact_window_ms = d->ms;
      }
    }
  }

  void FinishCommitteeSymbols() {
    Committee& com = model_->committee;
    std::vector<int32_t> ids;
    for (const auto& r : com.roles) ids.push_back(model_->symbols.Intern(r));
    com.role_of_symbol.assign(model_->symbols.size(), -1);
    for (size_t i = 0; i < ids.size(); ++i) com.role_of_symbol[ids[i]] = static_cast<int8_t>(i);
  }

  // {points, half_life, cap}: a signal of intent.signals, or an outcome kind of
  // feedback.signals. A signal with a bad value is still returned, so that later
  // references to it do not pile up follow-on problems; the model is refused anyway.
  std::optional<Signal> LoadSignal(const YAML::Node& s, const std::string& name, const std::string& where) {
    if (!s.IsMap()) {
      Error(s, where + " must be a mapping {points, half_life, cap}");
      return std::nullopt;
    }
    CheckKeys(s, where, {"points", "half_life", "cap"});
    Signal sig;
    sig.name = name;
    bool ok = Require(s, "points", where) && Require(s, "half_life", where);
    if (!ok) return std::nullopt;
    auto points = Number(s["points"], where + ".points");
    if (points && *points == 0) {
      Error(s["points"], where + ".points must not be zero");
      points.reset();
    }
    std::optional<Duration> hl;
    if (s["half_life"].IsScalar() && s["half_life"].Scalar().rfind('-', 0) == 0) {
      Error(s["half_life"], where + ".half_life must be positive, not '" + s["half_life"].Scalar() + "'");
    } else {
      hl = DurationOf(s["half_life"], where + ".half_life", false);
    }
    if (s["cap"]) {
      auto cap = Number(s["cap"], where + ".cap");
      if (cap && *cap < 0) {
        Error(s["cap"], where + ".cap must not be below zero");
      } else if (cap) {
        sig.cap = *cap;
        sig.account_cap = 2 * *cap;
      }
    }
    sig.points = points.value_or(1);
    sig.half_life = hl.value_or(Duration{kMsPerDay, 0});
    return sig;
  }

  void LoadIntent(const YAML::Node& intent) {
    CheckKeys(intent, "intent", {"signals", "multipliers"});
    if (!Require(intent, "signals", "intent")) return;
    const YAML::Node signals = intent["signals"];
    if (!signals.IsMap() || signals.size() == 0) {
      Error(signals, "intent.signals must be a mapping of signal name: {points, half_life, cap}");
      return;
    }
    for (const auto& kv : signals) {
      const std::string name = kv.first.Scalar();
      auto sig = LoadSignal(kv.second, name, "intent.signals." + name);
      if (!sig) continue;
      model_->signal_by_name.emplace(name, static_cast<uint16_t>(model_->signals.size()));
      model_->signals.push_back(std::move(*sig));
    }
    if (model_->signals.size() > 64) Error(signals, "intent.signals: at most 64 signals");
    if (!intent["multipliers"]) return;
    const YAML::Node mults = intent["multipliers"];
    if (!mults.IsSequence()) {
      Error(mults, "intent.multipliers must be a list");
      return;
    }
    for (size_t i = 0; i < mults.size(); ++i) {
      const YAML::Node m = mults[i];
      const std::string where = "intent.multipliers[" + std::to_string(i) + "]";
      if (!m.IsMap()) {
        Error(m, where + " must be a mapping {when, signals, factor}");
        continue;
      }
      CheckKeys(m, where, {"when", "signals", "factor"});
      Multiplier mult;
      mult.when = LoadWhen(m["when"], where, /*allow_event=*/true);
      std::optional<double> factor;
      if (Require(m, "factor", where)) {
        factor = Number(m["factor"], where + ".factor");
        if (factor && *factor < 0) {
          Error(m["factor"], where + ".factor must not be negative");
          factor.reset();
        }
      }
      std::vector<uint16_t> applies;
      if (m["signals"]) {
        mult.all_signals = false;
        if (!m["signals"].IsSequence() || m["signals"].size() == 0) {
          Error(m["signals"], where + ".signals must be a non-empty list of signal names");
        } else {
          for (const auto& s : m["signals"]) {
            auto idx = model_->SignalIndex(s.Scalar());
            if (!idx) Error(s, where + ".signals: '" + s.Scalar() + "' is not a signal of intent.signals");
            else applies.push_back(*idx);
          }
        }
      }
      if (!factor) continue;
      mult.factor = *factor;
      const auto index = static_cast<uint16_t>(model_->multipliers.size());
      if (mult.all_signals) {
        for (auto& sig : model_->signals) sig.multipliers.push_back(index);
      } else {
        for (uint16_t s : applies) model_->signals[s].multipliers.push_back(index);
      }
      model_->multipliers.push_back(std::move(mult));
    }
  }

  void LoadFit(const YAML::Node& fit) {
    CheckKeys(fit, "fit", {"rules", "disqualify", "grades"});
    if (fit["rules"]) {
      const YAML::Node rules = fit["rules"];
      if (!rules.IsSequence()) Error(rules, "fit.rules must be a list");
      for (size_t i = 0; rules.IsSequence() && i < rules.size(); ++i) {
        const YAML::Node r = rules[i];
        std::string where = "fit.rules[" + std::to_string(i) + "]";
        if (!r.IsMap()) {
          Error(r, where + " must be a mapping {name, when, points}");
          continue;
        }
        CheckKeys(r, where, {"name", "when", "points"});
        FitRule rule;
        if (Require(r, "name", where)) rule.name = String(r["name"], where + ".name");
        if (!rule.name.empty()) where = "fit rule '" + rule.name + "'";
        rule.when = LoadWhen(r["when"], where, false);
        rule.account_only = rule.when.NamesOnly(Source::kAccount);
        std::optional<double> points;
        if (Require(r, "points", where)) points = Number(r["points"], where + ".points");
        if (points) rule.points = *points;
        model_->fit_rules.push_back(std::move(rule));
      }
    }
    if (fit["disqualify"]) {
      const YAML::Node rules = fit["disqualify"];
      if (!rules.IsSequence()) Error(rules, "fit.disqualify must be a list");
      for (size_t i = 0; rules.IsSequence() && i < rules.size(); ++i) {
        const YAML::Node r = rules[i];
        std::string where = "fit.disqualify[" + std::to_string(i) + "]";
        if (!r.IsMap()) {
          Error(r, where + " must be a mapping {name, when}");
          continue;
        }
        CheckKeys(r, where, {"name", "when"});
        DisqualifyRule rule;
        if (Require(r, "name", where)) rule.name = String(r["name"], where + ".name");
        rule.when = LoadWhen(r["when"], where, false);
        rule.account_only = rule.when.NamesOnly(Source::kAccount);
        model_->disqualify.push_back(std::move(rule));
      }
    }
    if (Require(fit, "grades", "fit")) {
      const YAML::Node grades = fit["grades"];
      if (!grades.IsMap() || grades.size() == 0) {
        Error(grades, "fit.grades must be a mapping of grade: minimum fit");
      } else {
        double last = 101;
        for (const auto& kv : grades) {
          auto v = NumberIn(kv.second, "grade " + kv.first.Scalar(), 0, 100);
          if (!v) continue;
          if (kv.first.Scalar() == "F") Error(kv.first, "grade F is implicit (below the lowest grade)");
          if (*v >= last) Error(kv.second, "fit.grades must be listed from the highest minimum down");
          last = *v;
          model_->grades.push_back({kv.first.Scalar(), *v});
        }
      }
    }
  }

  // filters: [{name, when} | {name, burst: {events, within}}], at most one burst.
  void LoadFilters(const YAML::Node& filters) {
    if (!filters.IsSequence()) {
      Error(filters, "filters must be a list of {name, when} or {name, burst: {events, within}}");
      return;
    }
    std::set<std::string> names;
    for (size_t i = 0; i < filters.size(); ++i) {
      const YAML::Node f = filters[i];
      std::string where = "filters[" + std::to_string(i) + "]";
      if (!f.IsMap()) {
        Error(f, where + " must be a mapping {name, when} or {name, burst}");
        continue;
      }
      CheckKeys(f, where, {"name", "when", "burst"});
      Filter filter;
      if (Require(f, "name", where)) filter.name = String(f["name"], where + ".name");
      if (!filter.name.empty()) {
        where = "filter '" + filter.name + "'";
        // The name is a metric label value ("filter:NAME") and a word in summaries.
        const bool plain = std::all_of(filter.name.begin(), filter.name.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '_' || c == '-' || c == '.';
        });
        if (!plain) Error(f["name"], where + ": a filter name is letters, digits, '_', '-' or '.'");
        if (!names.insert(filter.name).second) Error(f["name"], where + " is defined twice");
      }
      if (f["when"] && f["burst"]) {
        Error(f, where + " has both when and burst: make them two filters");
      } else if (f["when"]) {
        filter.when = LoadWhen(f["when"], where, /*allow_event=*/true);
      } else if (f["burst"]) {
        LoadBurst(f["burst"], where, &filter);
        if (model_->burst_filter >= 0) {
          Error(f["burst"], where + ": a model has at most one burst filter (every event waits for it; two would be two holds)");
        } else {
          model_->burst_filter = static_cast<int>(model_->filters.size());
        }
      } else {
        Error(f, where + " needs when (drop matching events) or burst (drop runs of events)");
      }
      model_->filters.push_back(std::move(filter));
    }
    if (model_->filters.size() > 1000) Error(filters, "filters: at most 1000 filters");
  }

  void LoadBurst(const YAML::Node& b, const std::string& where, Filter* filter) {
    filter->burst = true;
    if (!b.IsMap()) {
      Error(b, where + ".burst must be a mapping {events, within}");
      return;
    }
    CheckKeys(b, where + ".burst", {"events", "within"});
    if (Require(b, "events", where + ".burst")) {
      auto n = NumberIn(b["events"], where + ".burst.events", 2, 100000);
      if (n && *n != std::floor(*n)) Error(b["events"], where + ".burst.events must be a whole number");
      else if (n) filter->burst_events = static_cast<int32_t>(*n);
    }
    if (Require(b, "within", where + ".burst")) {
      if (auto d = DurationOf(b["within"], where + ".burst.within", false)) {
        if (d->ms > kMsPerDay) {
          Error(b["within"], where + ".burst.within holds every event that long before it counts: at most 1d");
        } else {
          filter->burst_within_ms = d->ms;
        }
      }
    }
  }

  // feedback: { suppress: {KIND: duration}, signals: {KIND: {points, half_life, cap}} }
  void LoadFeedback(const YAML::Node& fb) {
    if (!fb.IsMap()) {
      Error(fb, "feedback must be a mapping {suppress, signals}");
      return;
    }
    CheckKeys(fb, "feedback", {"suppress", "signals"});
    std::set<std::string> seen;  // "section.KIND"
    auto kind_of = [&](const YAML::Node& key, const std::string& where) -> int {
      for (size_t k = 1; k < kOutcomeKindNames.size(); ++k) {
        if (key.Scalar() != kOutcomeKindNames[k]) continue;
        if (!seen.insert(where + "." + key.Scalar()).second) {
          Error(key, where + ": " + key.Scalar() + " is given twice");
          return 0;
        }
        return static_cast<int>(k);
      }
      Error(key, where + ": '" + key.Scalar() +
                     "' is not a sales outcome kind (ACCEPTED, REJECTED, OPPORTUNITY_CREATED, CLOSED_WON, CLOSED_LOST)");
      return 0;
    };
    if (const YAML::Node suppress = fb["suppress"]) {
      if (!suppress.IsMap()) {
        Error(suppress, "feedback.suppress must be a mapping of outcome kind: duration");
      } else {
        for (const auto& kv : suppress) {
          const int kind = kind_of(kv.first, "feedback.suppress");
          auto d = DurationOf(kv.second, "feedback.suppress." + kv.first.Scalar(), false);
          if (kind && d) model_->feedback.suppress_ms[kind] = d->ms;
        }
      }
    }
    if (const YAML::Node signals = fb["signals"]) {
      if (!signals.IsMap()) {
        Error(signals, "feedback.signals must be a mapping of outcome kind: {points, half_life, cap}");
      } else {
        for (const auto& kv : signals) {
          const int kind = kind_of(kv.first, "feedback.signals");
          auto sig = LoadSignal(kv.second, kv.first.Scalar(), "feedback.signals." + kv.first.Scalar());
          if (kind && sig) model_->feedback.signals.emplace_back(kind, std::move(*sig));
        }
      }
    }
  }

  void LoadPolicy(const YAML::Node& node, const std::string& name, bool is_account, EntityPolicy* policy) {
    if (!node.IsMap()) {
      Error(node, name + " must be a mapping");
      return;
    }
    KeySet keys = {"score", "hysteresis", "tiers"};
    if (is_account) keys.insert({"committee", "intent_caps"});
    CheckKeys(node, name, keys);
    if (is_account) Require(node, "committee", name);
    if (Require(node, "score", name)) {
      const YAML::Node s = node["score"];
      KeySet weights = {"fit_weight", "intent_weight"};
      if (is_account) weights.insert("committee_weight");
      CheckKeys(s, name + ".score", weights);
      double sum = 0;
      bool ok = s.IsMap();
      if (!ok) Error(s, name + ".score must be a mapping of weights");
      for (const auto& w : weights) {
        if (!ok) break;
        if (!s[w]) {
          if (w == "committee_weight") continue;
          Error(s, "missing '" + w + "' in " + name + ".score");
          ok = false;
          continue;
        }
        auto v = NumberIn(s[w], name + ".score." + w, 0, 1);
        if (!v) {
          ok = false;
          continue;
        }
        sum += *v;
        (w == "fit_weight" ? policy->fit_weight : w == "intent_weight" ? policy->intent_weight
                                                                        : policy->committee_weight) = *v;
      }
      if (ok && std::fabs(sum - 1.0) > 1e-6) {
        std::ostringstream os;
        os << name << ".score weights must add up to 1 (they add up to " << sum
           << "), so scores stay on the 0..100 scale of the tiers";
        Error(s, os.str());
      }
    }
    if (node["hysteresis"]) {
      if (auto h = NumberIn(node["hysteresis"], name + ".hysteresis", 0, 100)) policy->hysteresis = *h;
    }
    if (!Require(node, "tiers", name)) return;
    const YAML::Node tiers = node["tiers"];
    if (!tiers.IsSequence() || tiers.size() == 0) {
      Error(tiers, name + ".tiers must be a non-empty list, highest tier first");
      return;
    }
    KeySet tier_keys = {"name", "min_score", "min_fit", "min_intent", "sla", "action", "feedback"};
    if (is_account) tier_keys.insert({"min_engaged_contacts", "min_roles"});
    std::set<std::string> names;
    std::optional<double> previous_min_score;
    for (size_t i = 0; i < tiers.size(); ++i) {
      const YAML::Node t = tiers[i];
      std::string where = name + ".tiers[" + std::to_string(i) + "]";
      if (!t.IsMap()) {
        Error(t, where + " must be a mapping");
        continue;
      }
      CheckKeys(t, where, tier_keys);
      Tier tier;
      if (Require(t, "name", where)) tier.name = String(t["name"], where + ".name");
      if (!tier.name.empty()) {
        where = name + " tier '" + tier.name + "'";
        if (tier.name == "disqualified" || tier.name == "suppressed") {
          Error(t["name"], "'" + tier.name + "' is a reserved tier name");
        }
        if (!names.insert(tier.name).second) Error(t["name"], where + " is defined twice");
      }
      auto min = [&](const char* key) -> std::optional<double> {
        if (!t[key]) return std::nullopt;
        return NumberIn(t[key], where + "." + key, 0, 100);
      };
      auto count = [&](const char* key) -> std::optional<int32_t> {
        if (!t[key]) return std::nullopt;
        auto v = NumberIn(t[key], where + "." + key, 0, 1e6);
        if (v && *v != std::floor(*v)) {
          Error(t[key], where + "." + key + " must be a whole number");
          return std::nullopt;
        }
        return v ? std::optional<int32_t>(static_cast<int32_t>(*v)) : std::nullopt;
      };
      tier.min_score = min("min_score");
      tier.min_fit = min("min_fit");
      tier.min_intent = min("min_intent");
      tier.min_engaged_contacts = count("min_engaged_contacts");
      tier.min_roles = count("min_roles");
      if (tier.min_roles && *tier.min_roles > static_cast<int32_t>(model_->committee.roles.size())) {
        Error(t["min_roles"], where + ".min_roles is more than the committee has roles");
      }
      if (t["sla"]) {
        if (auto d = DurationOf(t["sla"], where + ".sla", true)) tier.sla = *d;
      }
      if (t["action"]) tier.action = String(t["action"], where + ".action");
      if (t["feedback"]) {
        tier.feedback = String(t["feedback"], where + ".feedback");
        static const KeySet kFeedback = {"mandatory", "required", "optional", "none"};
        if (!tier.feedback.empty() && !kFeedback.count(tier.feedback)) {
          Error(t["feedback"], where + ".feedback must be one of mandatory, required, optional, none");
        }
      }
      if (!tier.min_score) {
        Error(t, where + " needs min_score");
      } else {
        if (previous_min_score && *tier.min_score >= *previous_min_score) {
          Error(t["min_score"], where + " is out of order: min_score must fall from the first tier to the last");
        }
        previous_min_score = tier.min_score;
      }
      const bool last = i + 1 == tiers.size();
      if (last && ((tier.min_score && *tier.min_score != 0) || tier.min_fit || tier.min_intent ||
                   tier.min_engaged_contacts || tier.min_roles)) {
        Error(t, where + " is the lowest tier: it must hold for everyone (min_score: 0 and no other minimum)");
      }
      policy->tiers.push_back(std::move(tier));
    }
  }

  void LoadAccountCaps(const YAML::Node& account) {
    const YAML::Node caps = account["intent_caps"];
    if (!caps) return;
    if (!caps.IsMap()) {
      Error(caps, "account.intent_caps must be a mapping of signal: cap");
      return;
    }
    for (const auto& kv : caps) {
      auto idx = model_->SignalIndex(kv.first.Scalar());
      if (!idx) {
        Error(kv.first, "account.intent_caps: '" + kv.first.Scalar() + "' is not a signal of intent.signals");
        continue;
      }
      auto cap = Number(kv.second, "account.intent_caps." + kv.first.Scalar());
      if (cap && *cap < 0) Error(kv.second, "account.intent_caps." + kv.first.Scalar() + " must not be below zero");
      else if (cap) model_->signals[*idx].account_cap = *cap;
    }
  }

  void LoadFactorNamesUnique() {
    FinishCommitteeSymbols();
    // Factors name fit rules and signals side by side in explanations.
    std::set<std::string> seen;
    for (const auto& s : model_->signals) seen.insert(s.name);
    for (const auto& [kind, s] : model_->feedback.signals) {
      if (!seen.insert(s.name).second) Error(0, "feedback signal '" + s.name + "' shares its name with a signal");
    }
    for (const auto& r : model_->fit_rules) {
      if (!r.name.empty() && !seen.insert(r.name).second) {
        Error(0, "fit rule '" + r.name + "' shares its name with another rule or a signal");
      }
    }
  }

  // A tier whose min_score is above the best score the model can give is legal but
  // almost certainly a mistake in the weights or rules: say so, with the arithmetic.
  void WarnUnreachable(const YAML::Node& node, const std::string& name, bool is_account, const EntityPolicy& p) {
    double fit = 0;
    for (const auto& r : model_->fit_rules) {
      if (r.points > 0 && (!is_account || r.account_only)) fit += r.points;
    }
    fit = std::min(fit, 100.0);
    double intent = 0;
    for (const auto& s : model_->signals) {
      if (s.points > 0) intent += std::isinf(is_account ? s.account_cap : s.cap) ? 100 : (is_account ? s.account_cap : s.cap);
    }
    intent = std::min(intent, 100.0);
    const double best = p.fit_weight * fit + p.intent_weight * intent + p.committee_weight * 100;
    for (size_t i = 0; i < p.tiers.size(); ++i) {
      const Tier& t = p.tiers[i];
      if (!t.min_score || *t.min_score <= best + 1e-9) continue;
      std::ostringstream os;
      os << name << " tier '" << t.name << "' cannot be reached: min_score " << *t.min_score
         << " is above the best possible score " << best << " (fit at most " << fit
         << (is_account ? " from rules naming only account.* fields" : "") << ", intent at most " << intent
         << (is_account ? ", coverage at most 100" : "") << ")";
      warnings_.push_back({node["tiers"][i].Mark().line + 1, os.str()});
    }
  }

  // --- version --------------------------------------------------------------------
  // The version hashes the document as typed values: every scalar (a number by its
  // value, so 60 and 60.0 are one; anything else by its text), every list in its order,
  // every map with its keys. Comments, layout, quoting and key order are formatting and
  // do not count, except in the maps whose order is meaning: `intent.signals` and
  // `account.committee.roles` give the slot and role indices that entity snapshots are
  // written with, and `feedback.signals` keeps its order in the model. The `version`
  // label is left out of the hash (it is printed beside it).
  static bool KeyOrderMatters(const std::vector<std::string>& path) {
    static const std::vector<std::vector<std::string>> kOrdered = {
        {"intent", "signals"}, {"account", "committee", "roles"}, {"feedback", "signals"}};
    return std::find(kOrdered.begin(), kOrdered.end(), path) != kOrdered.end();
  }

  static void HashNode(const YAML::Node& n, std::vector<std::string>* path, Hasher* h) {
    // Type tags keep a list of two from a map of one, a number from its text, etc.
    if (n.IsMap()) {
      // Keys and values side by side; sorted through indices, never by assigning
      // YAML::Node (its operator= writes through to the node it refers to, which is
      // what scrambled LegacyVersionOf's content).
      std::vector<std::string> keys;
      std::vector<YAML::Node> values;
      for (const auto& kv : n) {
        keys.push_back(kv.first.Scalar());
        values.push_back(kv.second);
      }
      std::vector<size_t> order;
      for (size_t i = 0; i < keys.size(); ++i) {
        if (!(path->empty() && keys[i] == "version")) order.push_back(i);
      }
      if (!KeyOrderMatters(*path)) {
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
      }
      h->Int('M').Int(order.size());
      for (size_t i : order) {
        h->Bytes(keys[i]);
        path->push_back(keys[i]);
        HashNode(values[i], path, h);
        path->pop_back();
      }
    } else if (n.IsSequence()) {
      h->Int('S').Int(n.size());
      for (const auto& v : n) HashNode(v, path, h);
    } else if (n.IsScalar()) {
      if (auto v = ParseNumber(n.Scalar())) {
        double d = *v == 0 ? 0.0 : *v;  // -0 is 0
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        h->Int('N').Int(bits);
      } else {
        h->Int('T').Bytes(n.Scalar());
      }
    } else {
      h->Int('0');  // null: `key:` with nothing after it
    }
  }

  std::string Labelled(uint64_t hash) const {
    std::string short_hash;
    AppendHex(short_hash, hash);
    short_hash.resize(12);
    return model_->version_label.empty() ? short_hash : model_->version_label + "+" + short_hash;
  }

  std::string VersionOf(const YAML::Node& root) {
    Hasher h(/*seed=*/2);  // 2: the second version scheme (LegacyVersionOf is the first)
    std::vector<std::string> path;
    HashNode(root, &path, &h);
    return Labelled(h.Digest());
  }

  // MIGRATION ONLY — do not use for anything new. The version as leadscore 0.1.0
  // computed it, kept byte for byte so that state on disk written under it (the store's
  // `M model_version`) is still accepted with the same model file after an upgrade
  // (PartitionTask::Resume). It is wrong as a version: std::sort moves YAML::Node
  // values by operator=, which writes through to the nodes, so the normalized text is
  // scrambled and most numbers (points, min_score, half_life, ...) never reach the
  // hash. Remove it once no state written by 0.1.0 remains.
  static void LegacyNormalize(const YAML::Node& n, std::string* out) {
    if (n.IsMap()) {
      std::vector<std::pair<std::string, YAML::Node>> items;
      for (const auto& kv : n) items.emplace_back(kv.first.Scalar(), kv.second);
      std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      *out += '{';
      for (const auto& [k, v] : items) {
        *out += k + ':';
        LegacyNormalize(v, out);
        *out += ',';
      }
      *out += '}';
    } else if (n.IsSequence()) {
      *out += '[';
      for (const auto& v : n) {
        LegacyNormalize(v, out);
        *out += ',';
      }
      *out += ']';
    } else if (n.IsScalar()) {
      if (auto v = ParseNumber(n.Scalar())) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", *v);
        *out += buf;
      } else {
        *out += '"' + n.Scalar() + '"';
      }
    }
  }

  std::string LegacyVersionOf(const YAML::Node& root) {
    std::string content;
    YAML::Node copy = YAML::Clone(root);  // the scrambling stays in the copy
    copy.remove("version");
    LegacyNormalize(copy, &content);
    return Labelled(Hash64(content));
  }

  std::shared_ptr<Model> model_;
  std::vector<Problem> problems_;
  std::vector<Problem> warnings_;
  std::set<std::string> committee_roles_;
};

}  // namespace

const std::string& Model::GradeOf(double fit) const {
  static const std::string kF = "F";
  for (const auto& g : grades) {
    if (fit >= g.min_fit) return g.name;
  }
  return kF;
}

std::optional<uint16_t> Model::SignalIndex(std::string_view name) const {
  auto it = signal_by_name.find(name);
  if (it == signal_by_name.end()) return std::nullopt;
  return it->second;
}

std::string Problem::ToString() const {
  return (line > 0 ? "line " + std::to_string(line) + ": " : std::string()) + message;
}

std::string LoadResult::ErrorText() const {
  std::string out;
  for (const auto& p : problems) out += p.ToString() + "\n";
  return out;
}

LoadResult LoadModelFromString(std::string_view yaml) {
  try {
    return Loader().Load(yaml);
  } catch (const std::exception& e) {
    // yaml-cpp throws on some malformed inputs deep in conversions; never crash on a file.
    LoadResult r;
    r.problems.push_back({0, std::string("the model could not be read: ") + e.what()});
    return r;
  }
}

LoadResult LoadModelFromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.problems.push_back({0, "cannot open model file '" + path + "'"});
    return r;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return LoadModelFromString(buf.str());
}

}  // namespace leadscore::model
