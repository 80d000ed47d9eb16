#include "model/profile.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "common/varint.h"
#include "model/model.h"

namespace leadscore::model {
namespace {

// Format 5's kinds, each followed by a name; then the compact ones (profile.h).
enum Kind : uint8_t { kFixedText = 0, kFixedNumber = 1, kAttribute = 2, kCompactAttribute = 3 };
constexpr uint8_t kTextOfField = 0x10, kNumberOfField = 0x20;  // + the field's number (< 16)

// Fixed fields by wire name, in slot order (LeadField, AccountField).
constexpr std::string_view kLeadFields[kLeadFixedFields] = {"role", "seniority", "title", "country", "email_domain"};
constexpr std::string_view kAccountFields[kAccountFixedFields] = {"name",           "industry", "employee_count",
                                                                  "annual_revenue", "country",  "market"};

template <typename T>
bool Get(std::string_view& in, T* v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

bool GetBytes(std::string_view& in, size_t n, std::string_view* out) {
  if (in.size() < n) return false;
  *out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

bool GetCompactText(std::string_view& in, std::string_view* text) {
  uint64_t n = 0;
  return GetVarint(in, &n) && GetBytes(in, static_cast<size_t>(std::min<uint64_t>(n, in.size() + 1)), text);
}

// Walks the fields into the model's slots. Bytes that end inside a field, or hold a
// kind neither layout has, are refused whole: every slot unknown, false.
bool SlotsOf(const Model& m, std::string_view whole, const std::string_view* fixed_names, size_t n_fixed,
             const std::vector<std::string>& attribute_names, std::vector<FieldValue>* slots) {
  slots->assign(n_fixed + attribute_names.size(), FieldValue{});
  auto refuse = [&] {
    slots->assign(slots->size(), FieldValue{});
    return false;
  };
  std::string_view in = whole;
  while (!in.empty()) {
    uint8_t kind = 0;
    if (!Get(in, &kind)) return refuse();
    if (kind >= kTextOfField && kind < kNumberOfField + 16) {  // a fixed field by its number
      const size_t field = kind & 0x0f;
      FieldValue value;
      if (kind < kNumberOfField) {
        std::string_view text;
        if (!GetCompactText(in, &text)) return refuse();
        value = TextValue(m, text);
      } else {
        double n = 0;
        if (!Get(in, &n)) return refuse();
        value = NumberValue(n);
      }
      if (field < n_fixed) (*slots)[field] = value;
      continue;
    }
    if (kind == kCompactAttribute) {
      std::string_view key, text;
      if (!GetCompactText(in, &key) || !GetCompactText(in, &text)) return refuse();
      for (size_t i = 0; i < attribute_names.size(); ++i) {
        if (attribute_names[i] == key) (*slots)[n_fixed + i] = TextValue(m, text);
      }
      continue;
    }
    if (kind != kFixedText && kind != kFixedNumber && kind != kAttribute) return refuse();
    uint16_t name_len = 0;
    std::string_view name;
    if (!Get(in, &name_len) || !GetBytes(in, name_len, &name)) return refuse();
    FieldValue value;
    if (kind == kFixedNumber) {
      double n = 0;
      if (!Get(in, &n)) return refuse();
      value = NumberValue(n);
    } else {
      uint32_t text_len = 0;
      std::string_view text;
      if (!Get(in, &text_len) || !GetBytes(in, text_len, &text)) return refuse();
      value = TextValue(m, text);
    }
    if (kind == kAttribute) {
      for (size_t i = 0; i < attribute_names.size(); ++i) {
        if (attribute_names[i] == name) (*slots)[n_fixed + i] = value;
      }
    } else {
      for (size_t i = 0; i < n_fixed; ++i) {
        if (fixed_names[i] == name) (*slots)[i] = value;
      }
    }
  }
  return true;
}

std::string FromSlots(const Model& m, const std::vector<FieldValue>& slots, size_t n_fixed,
                      const std::vector<std::string>& attribute_names, bool numbers_fixed_at_2_3) {
  WholeProfileWriter w;
  auto text_of = [&](const FieldValue& v) -> std::string {
    if (v.symbol != kOtherSymbol) return m.symbols.Text(v.symbol);
    if (v.has_number) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.number);
      return buf;
    }
    return std::string(kUnknownText);
  };
  for (size_t i = 0; i < slots.size(); ++i) {
    const FieldValue& v = slots[i];
    if (!v.present) continue;
    if (i < n_fixed) {
      // The account's employee_count and annual_revenue are numbers on the wire.
      if (numbers_fixed_at_2_3 && (i == kAccountEmployeeCount || i == kAccountAnnualRevenue)) {
        w.Number(static_cast<uint16_t>(i), v.number);
      } else {
        w.Text(static_cast<uint16_t>(i), text_of(v));
      }
    } else if (i - n_fixed < attribute_names.size()) {
      w.Attribute(attribute_names[i - n_fixed], text_of(v));
    }
  }
  return w.Take();
}

}  // namespace

std::string WholeFromLeadSlots(const Model& m, const std::vector<FieldValue>& slots) {
  return FromSlots(m, slots, kLeadFixedFields, m.layout.lead_attributes, false);
}

std::string WholeFromAccountSlots(const Model& m, const std::vector<FieldValue>& slots) {
  return FromSlots(m, slots, kAccountFixedFields, m.layout.account_attributes, true);
}

void WholeProfileWriter::Text(uint16_t field, std::string_view text) {
  assert(field < 16);  // the kind byte holds it (condition.h)
  if (text.empty()) return;
  out_.push_back(static_cast<char>(kTextOfField + field));
  PutVarint(out_, text.size());
  out_.append(text);
}

void WholeProfileWriter::Number(uint16_t field, double number) {
  assert(field < 16);
  if (number == 0 || !std::isfinite(number)) return;
  out_.push_back(static_cast<char>(kNumberOfField + field));
  out_.append(reinterpret_cast<const char*>(&number), sizeof number);
}

void WholeProfileWriter::Attribute(std::string_view key, std::string_view text) {
  out_.push_back(static_cast<char>(kCompactAttribute));
  PutVarint(out_, key.size());
  out_.append(key);
  PutVarint(out_, text.size());
  out_.append(text);
}

FieldValue TextValue(const Model& m, std::string_view text) {
  FieldValue v;
  if (text.empty()) return v;  // proto3 cannot tell empty from unset: unknown
  v.present = true;
  v.symbol = m.symbols.Find(text);
  double n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec == std::errc() && ptr == end && std::isfinite(n)) {
    v.has_number = true;
    v.number = n;
  }
  return v;
}

FieldValue NumberValue(double n) {
  FieldValue v;
  if (n == 0 || !std::isfinite(n)) return v;  // proto3 zero is "not given"
  v.present = v.has_number = true;
  v.number = n;
  return v;
}

bool LeadSlotsOf(const Model& m, std::string_view whole, std::vector<FieldValue>* slots) {
  return SlotsOf(m, whole, kLeadFields, kLeadFixedFields, m.layout.lead_attributes, slots);
}

bool AccountSlotsOf(const Model& m, std::string_view whole, std::vector<FieldValue>* slots) {
  return SlotsOf(m, whole, kAccountFields, kAccountFixedFields, m.layout.account_attributes, slots);
}

}  // namespace leadscore::model
