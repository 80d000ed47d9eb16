// One entity's state as bytes for the state store, and back. Internal to src/engine/.
//
// Stored state must stay readable: the layout below changes only together with
// kSnapshotVersion (snapshot.h). Little-endian, fixed widths; a string is a u32 length
// and its bytes; a list is a u32 count and its items.
//   common:  u8 version, i64 clock,
//            signals  {f64 value, i32 count, i64 last_at_ms},
//            u64 active, u8 has_profile, i64 profile_at_ms,
//            fields   {u8 present, u8 has_number, i32 symbol, f64 number},
//            i16 tier, u32 changes,
//            recent   {i16 from, i16 to, i64 at_ms, str routing_id},
//            i8 last_outcome, i64 last_outcome_at_ms, u32 outcomes,
//            i64 suppressed_until, i8 suppressed_by, u8 outcome_active,      (version 4)
//            {f64 value, i32 count, i64 last_at_ms} per bit of outcome_active, lowest first,
//            outcomes_seen {u64 key, i64 at_ms}
//   lead:    common, str account_id, i64 last_event_at_ms, i64 dedupe_floor_ms,
//            seen     {u64 event_key, i64 at_ms},
//            held     {i64 release_at_ms, i64 first_ms, i64 last_ms, u32 count,
//                      events {i64 at_ms, u16 signal, attributes {field as above}}}  (version 3)
//   account: common, role_values {f64}, contacts {str lead_id, i64 last_event_at_ms},
//            leads    {str lead_id}
// Version 3 (before sales feedback) is read as an entity never suppressed, without
// outcome signals; version 2 (before held runs) also as a lead without held runs. Ids are stored as strings (interned ids are per process). What follows from the model
// (fit, disqualification, a lead's role, the next decay check) is not stored: the
// engine derives it on loading. Slot and tier indices are the model's, so the bytes are
// read only with the model that wrote them (the store keeps its version beside them).
//
// Stateless apart from the model; const methods may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/ids.h"
#include "engine/snapshot.h"
#include "engine/state.h"

namespace leadscore::engine {

class SnapshotCodec {
 public:
  explicit SnapshotCodec(const model::Model& model) : m_(model) {}

  std::string EncodeLead(const LeadState& lead, const IdTable& account_ids) const;
  std::string EncodeAccount(const AccountState& account, const IdTable& lead_ids) const;

  // Fill the stored members of a default-constructed state. `id` only names the entity
  // in errors. An account's lead ids are interned as they are read.
  Status DecodeAccount(std::string_view id, std::string_view bytes, IdTable& lead_ids, AccountState* out) const;
  // A lead's account comes back as its name: interning it is left to the caller, which
  // must check first that the account is loaded.
  Status DecodeLead(std::string_view id, std::string_view bytes, LeadState* out, std::string* account) const;

  // The account a stored lead belongs to, without loading the lead.
  Result<std::string> LeadAccount(std::string_view bytes) const;

 private:
  void WriteCommon(const EntityCommon& e, SnapshotWriter& w) const;
  // Reads the common part; `version` is the layout version the bytes were written in.
  Status ReadCommon(SnapshotReader& r, size_t slots, EntityCommon& e, uint8_t* version) const;

  const model::Model& m_;
};

}  // namespace leadscore::engine
