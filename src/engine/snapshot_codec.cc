#include "engine/snapshot_codec.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <utility>

#include "engine/engine.h"
#include "engine/scorer.h"
#include "engine/tiers.h"
#include "model/profile.h"

namespace leadscore::engine {
namespace {

// Field by field: the struct's padding is not state. Compact: a flags byte, then only
// what is set (the symbol when it is a model constant, the number when its bits are not 0).
enum FieldBits : uint8_t { kPresent = 1, kHasNumber = 2, kSymbol = 4, kNumber = 8 };

void PutFields(const std::vector<model::FieldValue>& fields, SnapshotWriter& w) {
  w.PutCount(fields.size());
  for (const auto& f : fields) {
    if (!w.compact()) {
      w.Put<uint8_t>(f.present);
      w.Put<uint8_t>(f.has_number);
      w.Put<int32_t>(f.symbol);
      w.Put<double>(f.number);
      continue;
    }
    uint64_t number_bits;
    std::memcpy(&number_bits, &f.number, sizeof number_bits);
    const uint8_t flags = (f.present ? kPresent : 0) | (f.has_number ? kHasNumber : 0) |
                          (f.symbol != model::kOtherSymbol ? kSymbol : 0) | (number_bits ? kNumber : 0);
    w.Put<uint8_t>(flags);
    if (flags & kSymbol) w.PutInt<int32_t>(f.symbol);
    if (flags & kNumber) w.Put<double>(f.number);
  }
}

// As many as were written: the caller checks them against the model's slots.
bool GetFields(SnapshotReader& r, std::vector<model::FieldValue>* out) {
  const uint32_t n = r.GetCount(14);
  out->resize(n);
  for (auto& f : *out) {
    if (!r.compact()) {
      f.present = r.Get<uint8_t>() != 0;
      f.has_number = r.Get<uint8_t>() != 0;
      f.symbol = r.Get<int32_t>();
      f.number = r.Get<double>();
      continue;
    }
    const uint8_t flags = r.Get<uint8_t>();
    if (flags & ~(kPresent | kHasNumber | kSymbol | kNumber)) return false;
    f.present = flags & kPresent;
    f.has_number = flags & kHasNumber;
    f.symbol = flags & kSymbol ? r.GetInt<int32_t>() : model::kOtherSymbol;
    f.number = flags & kNumber ? r.Get<double>() : 0.0;
  }
  return r.good();
}

}  // namespace

void SnapshotCodec::WriteCommon(const EntityCommon& e, const model::EntityPolicy& policy, SnapshotWriter& w) const {
  w.Put<uint8_t>(kSnapshotVersion);
  w.PutInt<int64_t>(e.clock);
  const int64_t base = e.clock;  // times are written as distances from it
  // Version 5: by name, only the signals that have had an event; sums in events.
  w.PutCount(static_cast<size_t>(__builtin_popcountll(e.active)));
  for (uint64_t bits = e.active, i = 0; bits; bits &= bits - 1, ++i) {
    w.PutString(m_.signals[static_cast<size_t>(__builtin_ctzll(bits))].name);
    w.Put(e.signals[i].value);
    w.PutInt(e.signals[i].count);
    w.PutTime(e.signals[i].last_at_ms, base);
  }
  w.Put<uint8_t>(e.has_profile);
  w.PutTime(e.profile_at_ms, base);
  w.Put<uint64_t>(slots_of_);  // still: the model whose slots a held event's attributes are
  w.PutString(e.profile.whole());      // the slots are read from it (version 9)
  w.PutString(TierName(policy, e.tier));
  // An entity without a history writes the defaults, as it always has.
  const EntityHistory& h = e.history();
  w.PutInt<uint32_t>(h.changes);
  w.PutCount(h.recent.size());
  for (const auto& c : h.recent) {
    w.PutString(TierName(policy, c.from));
    w.PutString(TierName(policy, c.to));
    w.PutTime(c.at_ms, base);
    w.PutHexOrText(c.routing_id);
  }
  w.Put<int8_t>(static_cast<int8_t>(h.last_outcome));
  w.PutTime(h.last_outcome_at_ms, base);
  w.PutInt<uint32_t>(h.outcomes);
  w.PutTime(h.suppressed_until, base);
  w.Put<int8_t>(static_cast<int8_t>(h.suppressed_by));
  w.Put<uint8_t>(h.outcome_active);
  for (unsigned bits = h.outcome_active; bits; bits &= bits - 1) {
    const SignalSum& s = h.outcome_signals[__builtin_ctz(bits)];
    w.Put(s.value);
    w.PutInt(s.count);
    w.PutTime(s.last_at_ms, base);
  }
  w.PutCount(h.outcomes_seen.size());
  for (const auto& [key, at] : h.outcomes_seen) {
    w.Put(key);
    w.PutTime(at, base);
  }
}

int16_t SnapshotCodec::TierIndex(const model::EntityPolicy& policy, std::string_view name) const {
  if (name == TierName(policy, kDisqualifiedTier)) return kDisqualifiedTier;
  if (name == TierName(policy, kSuppressedTier)) return kSuppressedTier;
  for (size_t i = 0; i < policy.tiers.size(); ++i) {
    if (policy.tiers[i].name == name) return static_cast<int16_t>(i);
  }
  return Scorer::LowestTier(policy);  // a tier the model no longer has
}

double SnapshotCodec::FeedbackPoints(int kind) const {
  for (const auto& [k, signal] : m_.feedback.signals) {
    if (k == kind) return signal.points;
  }
  return 0;
}

Status SnapshotCodec::ReadCommon(SnapshotReader& r, EntityKind kind, EntityCommon& e, uint8_t* version,
                                 bool* same_model, bool derive_slots, std::vector<std::string>* names) const {
  const model::EntityPolicy& policy = kind == EntityKind::kLead ? m_.lead : m_.account;
  const size_t slots = kind == EntityKind::kLead ? m_.layout.lead_slots() : m_.layout.account_slots();
  const size_t n_signals = m_.signals.size();
  *version = r.Get<uint8_t>();
  if (*version < kOldestSnapshotVersion || *version > kSnapshotVersion) {
    return Status::Corruption("unknown snapshot version " + std::to_string(*version));
  }
  r.SetVersion(*version);
  const bool named = *version >= 5;
  if (same_model) *same_model = true;  // formats 4 and older: the store checked it is
  e.clock = r.GetInt<int64_t>();
  const int64_t base = e.clock;  // from version 7, times are distances from it
  e.signals.clear();
  e.active = 0;
  if (named) {
    // A signal the model no longer has stops counting; a new one starts at 0.
    const uint32_t n = r.GetCount(24);
    e.signals.reserve(std::min<size_t>(n, n_signals));  // a signal the model dropped takes no room
    for (uint32_t i = 0; i < n && r.good(); ++i) {
      std::string name = r.GetString();
      SignalSum sum;
      sum.value = r.Get<double>();
      sum.count = r.GetInt<int32_t>();
      sum.last_at_ms = r.GetTime(base);
      if (const auto s = m_.SignalIndex(name)) e.ActiveSum(*s) = sum;
      if (names) names->push_back(std::move(name));
    }
  } else {
    // MIGRATION: formats 4 and older, by index and in points of the model that wrote
    // them (the store checks that it is this one).
    if (r.GetCount(20) != n_signals) return Status::Corruption("written by a model with other signals");
    std::vector<SignalSum> every(n_signals);  // these formats kept a sum for every signal
    for (size_t s = 0; s < n_signals; ++s) {
      const double value = r.Get<double>();
      every[s].value = m_.signals[s].points != 0 ? value / m_.signals[s].points : 0;
      every[s].count = r.Get<int32_t>();
      every[s].last_at_ms = r.Get<int64_t>();
    }
    const uint64_t active = r.Get<uint64_t>();
    for (size_t s = 0; s < n_signals; ++s) {
      if (active >> s & 1) e.ActiveSum(s) = every[s];
    }
  }
  e.has_profile = r.Get<uint8_t>() != 0;
  e.profile_at_ms = r.GetTime(base);
  // Read into these, then kept in the entity's one profile block.
  std::vector<model::FieldValue> fields;
  std::string_view whole;
  std::string whole_from_slots;  // formats before the whole profile
  if (named) {
    const uint64_t slots_of = r.Get<uint64_t>();
    const bool slots_written = *version < kFirstVersionWithoutSlots;
    if (slots_written && !GetFields(r, &fields)) return Status::Corruption("bad profile in entity state");
    whole = r.GetStringView();
    if (same_model) *same_model = slots_of == slots_of_;
    // Slots of another model, and from version 9 all slots, are read from the whole profile.
    if (e.has_profile && derive_slots && (!slots_written || slots_of != slots_of_ || fields.size() != slots)) {
      const bool read = kind == EntityKind::kLead ? model::LeadSlotsOf(m_, whole, &fields)
                                                  : model::AccountSlotsOf(m_, whole, &fields);
      // Where they are the only copy of the profile's slots, damaged bytes are refused;
      // under another model they read as unknown, as they always have.
      if (!read && !slots_written) return Status::Corruption("bad whole profile in entity state");
    }
    if (!e.has_profile) fields.clear();
  } else {
    if (!GetFields(r, &fields) || (!fields.empty() && fields.size() != slots)) {
      return Status::Corruption("written by a model with other fields");
    }
    if (e.has_profile && fields.size() == slots) {
      whole_from_slots = kind == EntityKind::kLead ? model::WholeFromLeadSlots(m_, fields)
                                                   : model::WholeFromAccountSlots(m_, fields);
      whole = whole_from_slots;
    }
  }
  e.profile.Assign(fields, 0, whole);
  if (named) {
    e.tier = TierIndex(policy, r.GetString());
  } else {
    e.tier = r.Get<int16_t>();
  }
  // Read aside, and kept only when it holds more than the defaults: most entities have
  // no history, and are not given one by being read.
  EntityHistory h;
  h.changes = r.GetInt<uint32_t>();
  const uint32_t n_recent = r.GetCount(16);
  for (uint32_t i = 0; i < n_recent && r.good(); ++i) {
    TierChange c;
    if (named) {
      c.from = TierIndex(policy, r.GetString());
      c.to = TierIndex(policy, r.GetString());
    } else {
      c.from = r.Get<int16_t>();
      c.to = r.Get<int16_t>();
    }
    c.at_ms = r.GetTime(base);
    c.routing_id = r.GetHexOrText();
    h.recent.push_back(std::move(c));
  }
  h.last_outcome = static_cast<OutcomeKind>(r.Get<int8_t>());
  h.last_outcome_at_ms = r.GetTime(base);
  h.outcomes = r.GetInt<uint32_t>();
  if (*version >= 4) {
    h.suppressed_until = r.GetTime(base);
    h.suppressed_by = static_cast<OutcomeKind>(r.Get<int8_t>());
    h.outcome_active = r.Get<uint8_t>();
    constexpr int kKinds = static_cast<int>(model::kOutcomeKindNames.size());
    if (h.outcome_active >> kKinds) return Status::Corruption("unknown outcome kinds in entity state");
    if (h.outcome_active) h.outcome_signals.resize(kKinds);
    for (unsigned bits = h.outcome_active; bits; bits &= bits - 1) {
      const int k = __builtin_ctz(bits);
      SignalSum& s = h.outcome_signals[k];
      s.value = r.Get<double>();
      if (!named) s.value = FeedbackPoints(k) != 0 ? s.value / FeedbackPoints(k) : 0;
      s.count = r.GetInt<int32_t>();
      s.last_at_ms = r.GetTime(base);
    }
    const uint32_t n_seen = r.GetCount(16);
    for (uint32_t i = 0; i < n_seen && r.good(); ++i) {
      const uint64_t key = r.Get<uint64_t>();
      h.outcomes_seen.emplace_back(key, r.GetTime(base));
    }
  }
  if (!h.empty()) e.mutable_history() = std::move(h);
  return r.good() ? Status::Ok() : Status::Corruption("truncated entity state");
}

std::string SnapshotCodec::EncodeLead(const LeadState& l, const IdTable& account_ids) const {
  SnapshotWriter w;
  WriteCommon(l, m_.lead, w);
  const int64_t base = l.clock;
  w.PutString(account_ids.Name(l.account));
  w.PutTime(l.last_event_at_ms(), base);
  w.PutTime(l.seen.floor(), base);
  w.PutCount(l.seen.size());
  for (const auto& [key, at] : l.seen) {
    w.Put(key);
    w.PutTime(at, base);
  }
  w.PutCount(l.held.size());
  for (const HeldRun& run : l.held) {
    w.PutTime(run.release_at_ms, base);
    w.PutTime(run.first_ms, base);
    w.PutTime(run.last_ms, base);
    w.PutInt<uint32_t>(run.count);
    w.PutCount(run.events.size());
    for (const HeldEvent& ev : run.events) {
      w.PutTime(ev.at_ms, base);
      w.PutString(m_.signals[ev.signal].name);
      PutFields(ev.attributes, w);  // slots of the model named by the common part's slots_of
    }
  }
  return w.Take();
}

std::string SnapshotCodec::EncodeAccount(const AccountState& a, const IdTable& lead_ids) const {
  SnapshotWriter w;
  WriteCommon(a, m_.account, w);
  // Version 10: the role sums that are not 0, by role; a signal by its place among the
  // signals the common part named (the account's active ones, in order), then among
  // the further names listed here (a role's signal the account itself has no sum of).
  const size_t roles = m_.committee.roles.size(), n_signals = m_.signals.size();
  const auto n_active = static_cast<size_t>(__builtin_popcountll(a.active));
  std::array<uint8_t, 64> place{};  // by signal: its place in the names
  std::vector<size_t> further;
  for (size_t s = 0; s < n_signals; ++s) {
    if (a.active >> s & 1) {
      place[s] = static_cast<uint8_t>(a.SumIndex(s));
      continue;
    }
    for (size_t r = 0; r < roles; ++r) {
      if (a.RoleSum(r, n_signals, s) != 0) {
        place[s] = static_cast<uint8_t>(n_active + further.size());
        further.push_back(s);
        break;
      }
    }
  }
  w.PutCount(further.size());
  for (size_t s : further) w.PutString(m_.signals[s].name);
  size_t engaged_roles = 0;
  std::array<uint64_t, 64> places{};  // by role: a bit per place with a sum
  for (size_t r = 0; r < roles; ++r) {
    for (size_t s = 0; s < n_signals; ++s) {
      if (a.RoleSum(r, n_signals, s) != 0) places[r] |= uint64_t{1} << place[s];
    }
    engaged_roles += places[r] != 0;
  }
  w.PutCount(engaged_roles);
  std::array<double, 64> by_place{};
  for (size_t r = 0; r < roles; ++r) {
    if (!places[r]) continue;
    w.PutString(m_.committee.roles[r]);
    w.PutInt<uint64_t>(places[r]);
    for (size_t s = 0; s < n_signals; ++s) {
      const double v = a.RoleSum(r, n_signals, s);
      if (v != 0) by_place[place[s]] = v;
    }
    for (uint64_t bits = places[r]; bits; bits &= bits - 1) w.Put(by_place[static_cast<size_t>(__builtin_ctzll(bits))]);
  }
  w.PutCount(a.contacts.size());
  std::string_view prev;
  for (const auto& [lead, last] : a.contacts) {
    w.PutFrontCoded(prev, lead_ids.Name(lead));
    w.PutTime(last, a.clock);
    prev = lead_ids.Name(lead);
  }
  w.PutCount(a.leads.size());
  prev = {};
  for (EntityId lead : a.leads) {
    w.PutFrontCoded(prev, lead_ids.Name(lead));
    prev = lead_ids.Name(lead);
  }
  // Version 6: the roles' crossings as solved, under this model (they are its roots).
  w.Put<uint8_t>(static_cast<uint8_t>(a.role_crossing.size()));
  if (!a.role_crossing.empty()) {
    w.Put<uint64_t>(slots_of_);
    for (int64_t at : a.role_crossing) w.PutTime(at, a.clock);
    w.PutInt<uint64_t>(a.role_crossing_engaged);
  }
  return w.Take();
}

Status SnapshotCodec::DecodeAccount(std::string_view id, std::string_view bytes, IdTable& lead_ids,
                                    AccountState* out, bool* ours) const {
  SnapshotReader r(bytes);
  AccountState& a = *out;
  uint8_t version = 0;
  std::vector<std::string> names;  // the signals the common part named, in order
  bool same_model = false;
  LEADSCORE_RETURN_IF_ERROR(ReadCommon(r, EntityKind::kAccount, a, &version, &same_model, true, &names));
  if (ours) *ours = same_model && version == kSnapshotVersion;
  const size_t roles = m_.committee.roles.size(), n_signals = m_.signals.size();
  a.role_values = {};  // none until a sum is read (AccountState::role_values)
  // A role or signal the model no longer has is dropped (Engine::Reevaluate sums the
  // roles again from the leads when the committee changed).
  auto role_sum = [&](std::string_view role, std::string_view signal, double v) {
    const auto ri = std::find(m_.committee.roles.begin(), m_.committee.roles.end(), role);
    const auto si = m_.SignalIndex(signal);
    if (ri != m_.committee.roles.end() && si) {
      if (a.role_values.empty()) a.role_values.assign(roles * n_signals, 0.0);
      a.role_values[static_cast<size_t>(ri - m_.committee.roles.begin()) * n_signals + *si] = v;
    }
  };
  const bool grouped = version >= kFirstVersionGroupingRoleSums;
  if (grouped) {
    const uint32_t n_further = r.GetCount(1);
    for (uint32_t i = 0; i < n_further && r.good(); ++i) names.push_back(r.GetString());
    const uint32_t n_roles = r.GetCount(2);
    for (uint32_t i = 0; i < n_roles && r.good(); ++i) {
      const std::string role = r.GetString();
      const uint64_t places = r.GetInt<uint64_t>();
      for (uint64_t bits = places; bits && r.good(); bits &= bits - 1) {
        const auto at = static_cast<size_t>(__builtin_ctzll(bits));
        const double v = r.Get<double>();
        if (at >= names.size()) return Status::Corruption("bad role sums in account state for '" + std::string(id) + "'");
        role_sum(role, names[at], v);
      }
    }
  } else if (version >= 5) {
    const uint32_t n = r.GetCount(16);
    for (uint32_t i = 0; i < n && r.good(); ++i) {
      const std::string role = r.GetString(), signal = r.GetString();
      role_sum(role, signal, r.Get<double>());
    }
  } else {
    if (r.GetCount(8) != roles * n_signals) return Status::Corruption("written by another committee");
    a.role_values.assign(roles * n_signals, 0.0);
    for (size_t i = 0; i < a.role_values.size(); ++i) {
      const double points = m_.signals[i % n_signals].points;
      const double v = r.Get<double>();
      a.role_values[i] = points != 0 ? v / points : 0;
    }
  }
  std::string prev;
  auto next_id = [&] { return prev = grouped ? r.GetFrontCoded(prev) : r.GetString(); };
  const uint32_t n_contacts = r.GetCount(12);
  for (uint32_t i = 0; i < n_contacts && r.good(); ++i) {
    const EntityId lead = lead_ids.Intern(next_id());
    a.contacts.emplace_back(lead, r.GetTime(a.clock));
  }
  prev.clear();
  const uint32_t n_leads = r.GetCount(4);
  for (uint32_t i = 0; i < n_leads && r.good(); ++i) a.leads.push_back(lead_ids.Intern(next_id()));
  if (version >= 6) {
    // Another model's crossings are not this one's: solved anew, as from version 5.
    const uint8_t n_crossings = r.Get<uint8_t>();
    if (n_crossings) {
      const uint64_t solved_under = r.Get<uint64_t>();
      CompactVector<int64_t> crossings;
      crossings.resize(n_crossings);
      for (int64_t& at : crossings) at = r.GetTime(a.clock);
      const uint64_t engaged = r.GetInt<uint64_t>();
      if (solved_under == slots_of_ && n_crossings == roles) {
        a.role_crossing = std::move(crossings);
        a.role_crossing_engaged = engaged;
      }
    }
  }
  if (!r.ok()) return Status::Corruption("bad account state for '" + std::string(id) + "'");
  return Status::Ok();
}

Status SnapshotCodec::DecodeLead(std::string_view id, std::string_view bytes, LeadState* out,
                                 std::string* account) const {
  SnapshotReader r(bytes);
  LeadState& l = *out;
  uint8_t version = 0;
  bool same_model = true;
  LEADSCORE_RETURN_IF_ERROR(ReadCommon(r, EntityKind::kLead, l, &version, &same_model));
  const int64_t base = l.clock;
  *account = r.GetString();
  r.GetTime(base);  // last_event_at_ms: the latest of its sums' (LeadState::last_event_at_ms)
  l.seen.RaiseFloor(r.GetTime(base));
  const uint32_t n_seen = r.GetCount(16);
  for (uint32_t i = 0; i < n_seen && r.good(); ++i) {
    const uint64_t key = r.Get<uint64_t>();
    const int64_t at = r.GetTime(base);
    if (l.seen.Contains(key)) return Status::Corruption("repeated event id in lead state for '" + std::string(id) + "'");
    l.seen.Add(key, at);
  }
  if (version >= 3) {
    const uint32_t n_runs = r.GetCount(32);
    for (uint32_t i = 0; i < n_runs && r.good(); ++i) {
      HeldRun run;
      run.release_at_ms = r.GetTime(base);
      run.first_ms = r.GetTime(base);
      run.last_ms = r.GetTime(base);
      run.count = r.GetInt<uint32_t>();
      const uint32_t n_events = r.GetCount(14);
      if (n_events > run.count) return Status::Corruption("bad held run for '" + std::string(id) + "'");
      for (uint32_t k = 0; k < n_events && r.good(); ++k) {
        HeldEvent ev;
        ev.at_ms = r.GetTime(base);
        std::optional<uint16_t> signal;
        if (version >= 5) {
          signal = m_.SignalIndex(r.GetString());
        } else {
          signal = r.Get<uint16_t>();
          if (*signal >= m_.signals.size()) return Status::Corruption("held event of '" + std::string(id) + "' written by another model");
        }
        if (!GetFields(r, &ev.attributes)) return Status::Corruption("bad held event of '" + std::string(id) + "'");
        // Event attributes are kept as slots only: under another model they are unknown.
        if (ev.attributes.size() != m_.layout.event_slots() || !same_model) ev.attributes.clear();
        if (!signal) continue;  // a signal the model no longer has: the event stops counting
        ev.signal = *signal;
        run.events.push_back(std::move(ev));
      }
      l.held.push_back(std::move(run));
    }
  }
  if (!r.ok()) return Status::Corruption("bad lead state for '" + std::string(id) + "'");
  return Status::Ok();
}

Result<std::string> SnapshotCodec::LeadAccount(std::string_view bytes) const {
  SnapshotReader r(bytes);
  LeadState l;
  uint8_t version = 0;
  LEADSCORE_RETURN_IF_ERROR(ReadCommon(r, EntityKind::kLead, l, &version, nullptr, false));
  std::string account = r.GetString();
  if (!r.good() || account.empty()) return Status::Corruption("lead state without an account");
  return account;
}

namespace {

// Where the tier's name (a string) starts in bytes of format 5 or later: after the
// common part's fields that precede it (snapshot_codec.h), in the bytes' encoding.
Result<size_t> TierAt(std::string_view bytes) {
  SnapshotReader r(bytes);
  const uint8_t version = r.Get<uint8_t>();
  if (!r.good() || version > kSnapshotVersion) return Status::Corruption("unknown entity state");
  if (version < 5) {
    return Status::InvalidArgument("entity state of format " + std::to_string(version) +
                                   " numbers its tiers under the model that wrote it (format 5 names them)");
  }
  r.SetVersion(version);
  const int64_t base = r.GetInt<int64_t>();  // clock
  const uint32_t n_signals = r.GetCount(24);
  for (uint32_t i = 0; i < n_signals && r.good(); ++i) {
    r.GetString();
    r.Get<double>();
    r.GetInt<int32_t>();
    r.GetTime(base);
  }
  r.Get<uint8_t>();   // has_profile
  r.GetTime(base);    // profile_at_ms
  r.Get<uint64_t>();  // slots_of
  std::vector<model::FieldValue> fields;
  if (version < kFirstVersionWithoutSlots && !GetFields(r, &fields)) return Status::Corruption("truncated entity state");
  r.GetString();  // whole profile
  if (!r.good()) return Status::Corruption("truncated entity state");
  const size_t at = bytes.size() - r.left();
  r.GetString();
  if (!r.good()) return Status::Corruption("truncated entity state");
  return at;
}

bool CompactAt(std::string_view bytes) { return IsCompactVersion(static_cast<uint8_t>(bytes[0])); }

}  // namespace

Result<std::string> StoredTierName(std::string_view bytes) {
  auto at = TierAt(bytes);
  if (!at.ok()) return at.status();
  SnapshotReader r(bytes.substr(*at), CompactAt(bytes));
  return r.GetString();
}

Result<std::string> WithStoredTier(std::string_view bytes, std::string_view tier) {
  auto at = TierAt(bytes);
  if (!at.ok()) return at.status();
  SnapshotReader r(bytes.substr(*at), CompactAt(bytes));
  r.GetString();
  const size_t old_size = bytes.size() - *at - r.left();  // its length and its bytes
  SnapshotWriter w(CompactAt(bytes));
  w.PutString(tier);
  std::string out(bytes.substr(0, *at));
  out += w.Take();
  out.append(bytes.substr(*at + old_size));
  return out;
}

}  // namespace leadscore::engine
