#include "engine/snapshot_codec.h"

#include <utility>

namespace leadscore::engine {
namespace {

// Field by field: the struct's padding is not state.
void PutFields(const std::vector<model::FieldValue>& fields, SnapshotWriter& w) {
  w.Put<uint32_t>(static_cast<uint32_t>(fields.size()));
  for (const auto& f : fields) {
    w.Put<uint8_t>(f.present);
    w.Put<uint8_t>(f.has_number);
    w.Put<int32_t>(f.symbol);
    w.Put<double>(f.number);
  }
}

// As many as the model has slots, or none (a profile not known yet).
bool GetFields(SnapshotReader& r, size_t slots, std::vector<model::FieldValue>* out) {
  const uint32_t n = r.GetCount(14);
  if (n != 0 && n != slots) return false;
  out->resize(n);
  for (auto& f : *out) {
    f.present = r.Get<uint8_t>() != 0;
    f.has_number = r.Get<uint8_t>() != 0;
    f.symbol = r.Get<int32_t>();
    f.number = r.Get<double>();
  }
  return true;
}

}  // namespace

void SnapshotCodec::WriteCommon(const EntityCommon& e, SnapshotWriter& w) const {
  w.Put<uint8_t>(kSnapshotVersion);
  w.Put<int64_t>(e.clock);
  w.Put<uint32_t>(static_cast<uint32_t>(e.signals.size()));
  for (const auto& s : e.signals) {
    w.Put(s.value);
    w.Put(s.count);
    w.Put(s.last_at_ms);
  }
  w.Put<uint64_t>(e.active);
  w.Put<uint8_t>(e.has_profile);
  w.Put<int64_t>(e.profile_at_ms);
  PutFields(e.fields, w);
  w.Put<int16_t>(e.tier);
  w.Put<uint32_t>(e.changes);
  w.Put<uint32_t>(static_cast<uint32_t>(e.recent.size()));
  for (const auto& c : e.recent) {
    w.Put(c.from);
    w.Put(c.to);
    w.Put(c.at_ms);
    w.PutString(c.routing_id);
  }
  w.Put<int8_t>(static_cast<int8_t>(e.last_outcome));
  w.Put<int64_t>(e.last_outcome_at_ms);
  w.Put<uint32_t>(e.outcomes);
  // Version 4: sales feedback.
  w.Put<int64_t>(e.suppressed_until);
  w.Put<int8_t>(static_cast<int8_t>(e.suppressed_by));
  w.Put<uint8_t>(e.outcome_active);
  for (unsigned bits = e.outcome_active; bits; bits &= bits - 1) {
    const SignalSum& s = e.outcome_signals[__builtin_ctz(bits)];
    w.Put(s.value);
    w.Put(s.count);
    w.Put(s.last_at_ms);
  }
  w.Put<uint32_t>(static_cast<uint32_t>(e.outcomes_seen.size()));
  for (const auto& [key, at] : e.outcomes_seen) {
    w.Put(key);
    w.Put(at);
  }
}

Status SnapshotCodec::ReadCommon(SnapshotReader& r, size_t slots, EntityCommon& e, uint8_t* version) const {
  const size_t n_signals = m_.signals.size();
  *version = r.Get<uint8_t>();
  if (*version < kOldestSnapshotVersion || *version > kSnapshotVersion) {
    return Status::Corruption("unknown snapshot version " + std::to_string(*version));
  }
  e.clock = r.Get<int64_t>();
  if (r.GetCount(20) != n_signals) return Status::Corruption("written by a model with other signals");
  e.signals.resize(n_signals);
  for (auto& s : e.signals) {
    s.value = r.Get<double>();
    s.count = r.Get<int32_t>();
    s.last_at_ms = r.Get<int64_t>();
  }
  e.active = r.Get<uint64_t>();
  e.has_profile = r.Get<uint8_t>() != 0;
  e.profile_at_ms = r.Get<int64_t>();
  if (!GetFields(r, slots, &e.fields)) return Status::Corruption("written by a model with other fields");
  e.tier = r.Get<int16_t>();
  e.changes = r.Get<uint32_t>();
  const uint32_t n_recent = r.GetCount(16);
  for (uint32_t i = 0; i < n_recent && r.good(); ++i) {
    TierChange c;
    c.from = r.Get<int16_t>();
    c.to = r.Get<int16_t>();
    c.at_ms = r.Get<int64_t>();
    c.routing_id = r.GetString();
    e.recent.push_back(std::move(c));
  }
  e.last_outcome = static_cast<OutcomeKind>(r.Get<int8_t>());
  e.last_outcome_at_ms = r.Get<int64_t>();
  e.outcomes = r.Get<uint32_t>();
  if (*version >= 4) {
    e.suppressed_until = r.Get<int64_t>();
    e.suppressed_by = static_cast<OutcomeKind>(r.Get<int8_t>());
    e.outcome_active = r.Get<uint8_t>();
    constexpr int kKinds = static_cast<int>(model::kOutcomeKindNames.size());
    if (e.outcome_active >> kKinds) return Status::Corruption("unknown outcome kinds in entity state");
    if (e.outcome_active) e.outcome_signals.resize(kKinds);
    for (unsigned bits = e.outcome_active; bits; bits &= bits - 1) {
      SignalSum& s = e.outcome_signals[__builtin_ctz(bits)];
      s.value = r.Get<double>();
      s.count = r.Get<int32_t>();
      s.last_at_ms = r.Get<int64_t>();
    }
    const uint32_t n_seen = r.GetCount(16);
    for (uint32_t i = 0; i < n_seen && r.good(); ++i) {
      const uint64_t key = r.Get<uint64_t>();
      e.outcomes_seen.emplace_back(key, r.Get<int64_t>());
    }
  }
  return r.good() ? Status::Ok() : Status::Corruption("truncated entity state");
}

std::string SnapshotCodec::EncodeLead(const LeadState& l, const IdTable& account_ids) const {
  SnapshotWriter w;
  WriteCommon(l, w);
  w.PutString(account_ids.Name(l.account));
  w.Put<int64_t>(l.last_event_at_ms);
  w.Put<int64_t>(l.dedupe_floor_ms);
  w.Put<uint32_t>(static_cast<uint32_t>(l.seen.size()));
  for (const auto& [key, at] : l.seen) {
    w.Put(key);
    w.Put(at);
  }
  w.Put<uint32_t>(static_cast<uint32_t>(l.held.size()));
  for (const HeldRun& run : l.held) {
    w.Put<int64_t>(run.release_at_ms);
    w.Put<int64_t>(run.first_ms);
    w.Put<int64_t>(run.last_ms);
    w.Put<uint32_t>(run.count);
    w.Put<uint32_t>(static_cast<uint32_t>(run.events.size()));
    for (const HeldEvent& ev : run.events) {
      w.Put<int64_t>(ev.at_ms);
      w.Put<uint16_t>(ev.signal);
      PutFields(ev.attributes, w);
    }
  }
  return w.Take();
}

std::string SnapshotCodec::EncodeAccount(const AccountState& a, const IdTable& lead_ids) const {
  SnapshotWriter w;
  WriteCommon(a, w);
  w.Put<uint32_t>(static_cast<uint32_t>(a.role_values.size()));
  for (double v : a.role_values) w.Put(v);
  w.Put<uint32_t>(static_cast<uint32_t>(a.contacts.size()));
  for (const auto& [lead, last] : a.contacts) {
    w.PutString(lead_ids.Name(lead));
    w.Put(last);
  }
  w.Put<uint32_t>(static_cast<uint32_t>(a.leads.size()));
  for (EntityId lead : a.leads) w.PutString(lead_ids.Name(lead));
  return w.Take();
}

Status SnapshotCodec::DecodeAccount(std::string_view id, std::string_view bytes, IdTable& lead_ids,
                                    AccountState* out) const {
  SnapshotReader r(bytes);
  AccountState& a = *out;
  uint8_t version = 0;
  LEADSCORE_RETURN_IF_ERROR(ReadCommon(r, m_.layout.account_slots(), a, &version));
  const uint32_t n_roles = r.GetCount(8);
  if (n_roles != m_.committee.roles.size() * m_.signals.size()) {
    return Status::Corruption("written by another committee");
  }
  a.role_values.resize(n_roles);
  for (double& v : a.role_values) v = r.Get<double>();
  const uint32_t n_contacts = r.GetCount(12);
  for (uint32_t i = 0; i < n_contacts && r.good(); ++i) {
    const EntityId lead = lead_ids.Intern(r.GetString());
    a.contacts.emplace_back(lead, r.Get<int64_t>());
  }
  const uint32_t n_leads = r.GetCount(4);
  for (uint32_t i = 0; i < n_leads && r.good(); ++i) a.leads.push_back(lead_ids.Intern(r.GetString()));
  if (!r.ok()) return Status::Corruption("bad account state for '" + std::string(id) + "'");
  return Status::Ok();
}

Status SnapshotCodec::DecodeLead(std::string_view id, std::string_view bytes, LeadState* out,
                                 std::string* account) const {
  SnapshotReader r(bytes);
  LeadState& l = *out;
  uint8_t version = 0;
  LEADSCORE_RETURN_IF_ERROR(ReadCommon(r, m_.layout.lead_slots(), l, &version));
  *account = r.GetString();
  l.last_event_at_ms = r.Get<int64_t>();
  l.dedupe_floor_ms = r.Get<int64_t>();
  const uint32_t n_seen = r.GetCount(16);
  for (uint32_t i = 0; i < n_seen && r.good(); ++i) {
    const uint64_t key = r.Get<uint64_t>();
    l.seen.emplace_back(key, r.Get<int64_t>());
  }
  if (version >= 3) {
    const uint32_t n_runs = r.GetCount(32);
    for (uint32_t i = 0; i < n_runs && r.good(); ++i) {
      HeldRun run;
      run.release_at_ms = r.Get<int64_t>();
      run.first_ms = r.Get<int64_t>();
      run.last_ms = r.Get<int64_t>();
      run.count = r.Get<uint32_t>();
      const uint32_t n_events = r.GetCount(14);
      if (n_events > run.count) return Status::Corruption("bad held run for '" + std::string(id) + "'");
      for (uint32_t k = 0; k < n_events && r.good(); ++k) {
        HeldEvent ev;
        ev.at_ms = r.Get<int64_t>();
        ev.signal = r.Get<uint16_t>();
        if (ev.signal >= m_.signals.size() || !GetFields(r, m_.layout.event_slots(), &ev.attributes)) {
          return Status::Corruption("held event of '" + std::string(id) + "' written by another model");
        }
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
  LEADSCORE_RETURN_IF_ERROR(ReadCommon(r, m_.layout.lead_slots(), l, &version));
  std::string account = r.GetString();
  if (!r.good() || account.empty()) return Status::Corruption("lead state without an account");
  return account;
}

}  // namespace leadscore::engine
