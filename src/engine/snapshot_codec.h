// One entity's state as bytes for the state store, and back. Internal to src/engine/.
//
// Stored state must stay readable: the layout below changes only together with
// kSnapshotVersion (snapshot.h). A string is a length and its bytes; a list is a count
// and its items. Up to version 6 every item has the width it is given below (a count or
// length is a u32); from version 7 (snapshot.h, "Compact") the whole numbers, counts,
// lengths and times (i64 ..._ms, relative to the clock; TimeCode) are varints, zigzag
// when signed, and so are the account's engaged bits. A field is a flags byte (1 present,
// 2 has_number, 4 a symbol follows as a varint, 8 a number follows as an f64) with only
// what is set. A routing id is a varint (length << 1 | 1) and its 16 bytes when it is
// lowercase hex, else (length << 1) and its text. What stays fixed in both: the version,
// u8/i8 flags and kinds, f64 sums, u64 digests (slots_of, solved_under) and event keys.
//   common:  u8 version, i64 clock,
//            signals  {str name, f64 sum in events, i32 count, i64 last_at_ms} (active ones),
//            u8 has_profile, i64 profile_at_ms,
//            u64 slots_of (digest of the version of the model whose slots follow, and
//                     whose slots a lead's held events' attributes are),
//            up to version 8: fields {u8 present, u8 has_number, i32 symbol, f64 number},
//            str whole profile (model/profile.h; from version 9 the slots are read from it),
//            str tier, u32 changes,
//            recent   {str from, str to, i64 at_ms, str routing_id},
//            i8 last_outcome, i64 last_outcome_at_ms, u32 outcomes,
//            i64 suppressed_until, i8 suppressed_by, u8 outcome_active,
//            {f64 sum in events, i32 count, i64 last_at_ms} per bit of outcome_active, lowest first,
//            outcomes_seen {u64 key, i64 at_ms}
//   lead:    common, str account_id, i64 last_event_at_ms (read and not kept: the latest
//            of its sums', LeadState::last_event_at_ms), i64 dedupe_floor_ms,
//            seen     {u64 event_key, i64 at_ms},
//            held     {i64 release_at_ms, i64 first_ms, i64 last_ms, u32 count,
//                      events {i64 at_ms, str signal, attributes {field as above}}}
//   account: common, up to version 9: role sums {str role, str signal, f64 sum in events}
//            (the ones not 0); from version 10: further signals {str name}, role sums
//            {str role, u64 places, f64 sum in events per bit of places, lowest first}
//            (the roles with a sum not 0; place i: the i-th signal the common part
//            named, then the further ones),
//            contacts {str lead_id, i64 last_event_at_ms}, leads {str lead_id} (from
//            version 10 each lead_id front-coded against the one before in its list:
//            varint length of the prefix they share, str the rest; a list's first whole),
//            from version 6: u8 roles solved, and when not 0: u64 solved_under (digest of
//            the model's version), i64 crossing per role, u64 engaged bits
//            (AccountState::role_crossing; another model's are dropped on reading)
// Version 5 names signals, tiers and roles and keeps sums without points and whole
// profiles, so bytes written under one model are read under another (SPEC section 3,
// "Changing the model"): a signal or role the model no longer has is dropped, a new one
// starts at 0, a tier it no longer has reads as its lowest tier, and the slots are
// read again from the whole profile when the model differs (held events' attributes,
// kept as slots only, are then unknown); from version 9 they are read from it always.
// Ids are strings (interned ids are per process).
// What follows from the model (fit, disqualification, a lead's role, the next decay
// check) is not stored: the engine derives it on loading. The one exception, from
// version 6, is the roles' crossings an account's check solved, kept so that a loaded
// account is checked when the one kept in memory would be; they are tagged with the
// model and dropped under another.
//
// MIGRATION: versions 2-4 were positional and in points; they are read only under the
// model that wrote them (the store checks its version), their sums divided by its points
// and their whole profiles rebuilt from its slots (model::WholeFromLeadSlots). Version
// 3 (before sales feedback) is read as never suppressed and without outcome signals;
// version 2 (before held runs) also as a lead without held runs.
//
// Stateless apart from the model; const methods may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "common/status.h"
#include "engine/ids.h"
#include "engine/snapshot.h"
#include "engine/state.h"

namespace leadscore::engine {

class SnapshotCodec {
 public:
  explicit SnapshotCodec(const model::Model& model) : m_(model), slots_of_(Hash64(model.version)) {}

  std::string EncodeLead(const LeadState& lead, const IdTable& account_ids) const;
  std::string EncodeAccount(const AccountState& account, const IdTable& lead_ids) const;

  // Fill the stored members of a default-constructed state. `id` only names the entity
  // in errors. An account's lead ids are interned as they are read.
  // `ours`, when given: whether the bytes were written under this model in this
  // format (what an earlier format or another model stored is not taken as solved).
  Status DecodeAccount(std::string_view id, std::string_view bytes, IdTable& lead_ids, AccountState* out,
                       bool* ours = nullptr) const;
  // A lead's account comes back as its name: interning it is left to the caller, which
  // must check first that the account is loaded.
  Status DecodeLead(std::string_view id, std::string_view bytes, LeadState* out, std::string* account) const;

  // The account a stored lead belongs to, without loading the lead.
  Result<std::string> LeadAccount(std::string_view bytes) const;

 private:
  void WriteCommon(const EntityCommon& e, const model::EntityPolicy& policy, SnapshotWriter& w) const;
  // Reads the common part; `version` is the layout version the bytes were written in,
  // `same_model` whether its slots are this model's.
  // `derive_slots` false: the slots are left as written (none from version 9), for a
  // caller that reads past the common part only. `names`: the signals it named, in
  // order, as written (an account's role sums refer to them from version 10).
  Status ReadCommon(SnapshotReader& r, EntityKind kind, EntityCommon& e, uint8_t* version,
                    bool* same_model = nullptr, bool derive_slots = true,
                    std::vector<std::string>* names = nullptr) const;
  int16_t TierIndex(const model::EntityPolicy& policy, std::string_view name) const;
  double FeedbackPoints(int kind) const;

  const model::Model& m_;
  const uint64_t slots_of_;
};

}  // namespace leadscore::engine
