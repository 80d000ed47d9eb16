// A profile as it arrived, every field and attribute: what the state keeps so that a
// model loaded later reads fields the model of the day did not (SPEC section 3,
// "Changing the model"). Conditions never read it: a model reads its slots (condition.h),
// derived from it here, on arrival and each time the entity is loaded (the stored bytes
// keep no slots: engine/snapshot.h, version 9).
//
// The bytes are the state's: a list of fields, each one of
//   u8 0x10 + i, varint length, text     fixed text field i of a lead or an account
//                                         (LeadField, AccountField: slot order)
//   u8 0x20 + i, f64 (LE)                 fixed number field i
//   u8 3, varint length, key, varint length, text    an attribute, by its key
// and, as state format 5 wrote them (read as ever, no longer written):
//   u8 kind (0 fixed text, 1 fixed number, 2 attribute), u16 name length, name, then
//   for text u32 length and text, for a number f64 (LE); fixed fields named as in the
//   wire format ("seniority", "employee_count").
// The fixed fields' numbers are their LeadField / AccountField numbers (condition.h),
// no model's; a number this build does not know (a field added later) is skipped.
// Unset (empty, zero) fields are not listed. Written by number, a simulated lead's
// profile is 50 B instead of 112 (every name and length was in every lead's bytes and
// memory: bench/HISTORY.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/condition.h"

namespace leadscore::model {

struct Model;

// Builds the bytes field by field, in any order. `field`: a LeadField or AccountField.
class WholeProfileWriter {
 public:
  void Text(uint16_t field, std::string_view text);  // empty: not given
  void Number(uint16_t field, double number);        // 0 or not finite: not given
  void Attribute(std::string_view key, std::string_view text);
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// How conditions see a text field or a number (an empty text, a zero number: unknown,
// as proto3 cannot tell them from unset). A text that parses whole as a finite number
// is also that number.
FieldValue TextValue(const Model& model, std::string_view text);
FieldValue NumberValue(double number);

// The model's lead (account) slots read from a whole profile; false on bytes that are
// not a whole profile (the slots are then all unknown).
bool LeadSlotsOf(const Model& model, std::string_view whole, std::vector<FieldValue>* slots);
bool AccountSlotsOf(const Model& model, std::string_view whole, std::vector<FieldValue>* slots);

// MIGRATION (state format 4 and older kept only the slots): a whole profile holding
// what the slots of the model that wrote them still say. Texts that were none of that
// model's constants are kept as a text no constant equals (kUnknownText), so `exists`
// and `not_in` still hold for them under a later model.
std::string WholeFromLeadSlots(const Model& model, const std::vector<FieldValue>& slots);
std::string WholeFromAccountSlots(const Model& model, const std::vector<FieldValue>& slots);
inline constexpr std::string_view kUnknownText = "\x01";

}  // namespace leadscore::model
