// Compiled conditions. A field path of the model ("account.industry",
// "lead.attributes.segment", "event.attributes.product_line") becomes a slot of its
// source's values (field_value.h); string constants become interned symbol ids.
// Evaluating a condition is then integer and double comparisons only.
//
// Unknown values (no profile yet, attribute absent) make every operator false,
// `not_in` included; `exists` tests presence. Thread-safe: immutable after load.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/field_value.h"

namespace leadscore::model {

// Hashes a string key as its view, so that maps keyed by std::string are searched with
// a string_view (with std::equal_to<>) and no string is made for the lookup.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The model's string constants.
class Symbols {
 public:
  int32_t Intern(std::string_view text);
  int32_t Find(std::string_view text) const;  // kOtherSymbol when not a constant
  const std::string& Text(int32_t symbol) const { return by_id_.at(static_cast<size_t>(symbol)); }
  size_t size() const { return by_text_.size(); }

 private:
  std::unordered_map<std::string, int32_t, TextHash, std::equal_to<>> by_text_;  // found by a view
  std::vector<std::string> by_id_;
};

enum class Source : uint8_t { kLead, kAccount, kEvent };

// Fixed fields of the profiles; attribute slots follow them. Stored: a whole profile
// names a fixed field by its number here (model/profile.h), so a field is only ever
// added at the end, and there are at most 16 of each.
enum LeadField : uint16_t { kLeadRole, kLeadSeniority, kLeadTitle, kLeadCountry, kLeadEmailDomain, kLeadFixedFields };
enum AccountField : uint16_t {
  kAccountName, kAccountIndustry, kAccountEmployeeCount, kAccountAnnualRevenue, kAccountCountry,
  kAccountMarket, kAccountFixedFields
};
static_assert(kLeadFixedFields <= 16 && kAccountFixedFields <= 16, "a whole profile's kind byte holds the number");

// Which attribute names the model reads, per source, and their slots.
struct FieldLayout {
  std::vector<std::string> lead_attributes;     // slot kLeadFixedFields + i
  std::vector<std::string> account_attributes;  // slot kAccountFixedFields + i
  std::vector<std::string> event_attributes;    // slot i
  size_t lead_slots() const { return kLeadFixedFields + lead_attributes.size(); }
  size_t account_slots() const { return kAccountFixedFields + account_attributes.size(); }
  size_t event_slots() const { return event_attributes.size(); }
};

// The values a condition can see; a view of none is an unknown profile.
struct FieldContext {
  SlotView lead;
  SlotView account;
  SlotView event;
};

enum class Op : uint8_t { kEq, kIn, kNotIn, kGte, kLte, kBetween, kExists };

struct Condition {
  Source source = Source::kLead;
  uint16_t slot = 0;
  Op op = Op::kEq;
  bool numeric = false;          // compare numbers rather than symbols
  bool exists_expected = true;   // for kExists
  std::vector<int32_t> symbols;  // eq / in / not_in on text
  std::vector<double> numbers;   // eq / in / not_in on numbers
  double lo = 0, hi = 0;         // gte (lo), lte (hi), between [lo, hi]

  bool Matches(const FieldContext& ctx) const;
};

// All conditions must hold (the keys of one `when:` map).
struct ConditionSet {
  std::vector<Condition> all;
  bool Matches(const FieldContext& ctx) const {
    for (const Condition& c : all) {
      if (!c.Matches(ctx)) return false;
    }
    return true;
  }
  bool NamesOnly(Source s) const {
    for (const Condition& c : all) {
      if (c.source != s) return false;
    }
    return true;
  }
};

}  // namespace leadscore::model
