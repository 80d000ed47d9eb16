#include "model/condition.h"

#include <algorithm>

namespace leadscore::model {

int32_t Symbols::Intern(std::string_view text) {
  auto [it, inserted] = by_text_.try_emplace(std::string(text), static_cast<int32_t>(by_text_.size()));
  if (inserted) by_id_.push_back(it->first);
  return it->second;
}

int32_t Symbols::Find(std::string_view text) const {
  // By the view itself: every profile's texts are looked up as an entity loads.
  auto it = by_text_.find(text);
  return it == by_text_.end() ? kOtherSymbol : it->second;
}

bool Condition::Matches(const FieldContext& ctx) const {
  const SlotView& values = source == Source::kLead      ? ctx.lead
                          : source == Source::kAccount ? ctx.account
                                                       : ctx.event;
  const FieldValue v = values.known() ? values[slot] : FieldValue{};
  if (op == Op::kExists) return v.present == exists_expected;
  if (!v.present) return false;  // unknown: false for every operator, not_in included
  switch (op) {
    case Op::kEq:
    case Op::kIn:
    case Op::kNotIn: {
      bool found;
      if (numeric) {
        found = v.has_number && std::find(numbers.begin(), numbers.end(), v.number) != numbers.end();
      } else {
        found = v.symbol != kOtherSymbol && std::find(symbols.begin(), symbols.end(), v.symbol) != symbols.end();
      }
      return op == Op::kNotIn ? !found : found;
    }
    case Op::kGte: return v.has_number && v.number >= lo;
    case Op::kLte: return v.has_number && v.number <= hi;
    case Op::kBetween: return v.has_number && v.number >= lo && v.number <= hi;
    case Op::kExists: break;
  }
  return false;
}

}  // namespace leadscore::model
