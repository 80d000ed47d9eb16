#include "engine/entity_table.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "engine/prefetch.h"
#include "engine/state_bytes.h"

namespace leadscore::engine {
namespace {

// TakeChanges reads ahead this many changed entities of a kind at a time
// (LoadToEncodeAccounts, LoadToEncodeLeads).
constexpr size_t kEncodeAheadGroup = 32;
std::span<const EntityId> Group(const std::vector<EntityId>& ids, size_t from) {
  return std::span<const EntityId>(ids).subspan(from, std::min(kEncodeAheadGroup, ids.size() - from));
}

// Empties an entity but keeps whether it is listed for TakeChanges (the listing keeps
// the timer index key it was last written with).
template <typename State>
void Reset(State& e) {
  const bool dirty = e.dirty;
  e = State();
  e.dirty = dirty;
}

// Back to the pool; a timer entry left in the heap for it is skipped when popped.
template <typename State>
void Unload(RecordPool<State>& pool, EntityId id, size_t& count, const std::function<void(const EntityCommon&)>& on_drop) {
  on_drop(*pool.Find(id));
  pool.Free(id);
  --count;
}

}  // namespace

LeadState& EntityTable::AddLead(EntityId id) {
  LeadState& l = leads_.Get(id);
  Reset(l);  // possibly forgotten in this batch: still listed dirty
  l.exists = true;
  ++loaded_leads_;
  MarkLead(id);
  return l;
}

AccountState& EntityTable::AddAccount(EntityId id) {
  AccountState& a = accounts_.Get(id);
  Reset(a);  // possibly forgotten in this batch: still listed dirty
  a.exists = true;
  ++loaded_accounts_;
  MarkAccount(id);
  return a;
}

LeadState& EntityTable::InsertLead(EntityId id, LeadState lead) {
  if (AccountState* a = accounts_.Find(lead.account)) a->touched = epoch_;
  LeadState& l = leads_.Get(id);
  l = std::move(lead);
  ++loaded_leads_;
  return l;
}

AccountState& EntityTable::InsertAccount(EntityId id, AccountState account) {
  account.touched = epoch_;
  AccountState& a = accounts_.Get(id);
  a = std::move(account);
  ++loaded_accounts_;
  return a;
}

void EntityTable::EraseLead(EntityId id) {
  LeadState& l = *leads_.Find(id);
  MarkLead(id, l);  // before its check is cleared: the listing keeps the store's
  Reset(l);
  --loaded_leads_;
}

void EntityTable::EraseAccount(EntityId id) {
  AccountState& a = *accounts_.Find(id);
  MarkAccount(id, a);  // before its check is cleared: the listing keeps the store's
  Reset(a);
  --loaded_accounts_;
}

void EntityTable::MarkLead(EntityId id) { MarkLead(id, leads_.Get(id)); }
void EntityTable::MarkAccount(EntityId id) { MarkAccount(id, accounts_.Get(id)); }

void EntityTable::TakeChanges(const SnapshotCodec& codec, std::vector<Engine::Change>* out) {
  ++epoch_;
  auto take = [&](EntityKind kind, std::string_view id, EntityCommon& e, std::string bytes, int64_t stored_due) {
    e.dirty = false;
    out->push_back({kind, std::string(id), std::move(bytes), e.exists ? e.due : kNever, stored_due});
  };
  // An erased entity's record goes back to its pool once its erase is taken.
  uint64_t read = 0;
  size_t next_stored = 0;  // the listings' places in their stored checks (Listing::StoredDue)
  for (size_t i = 0; i < dirty_accounts_.size(); ++i) {
    if (i % kEncodeAheadGroup == 0) read += LoadToEncodeAccounts(Group(dirty_accounts_.ids, i));
    const EntityId id = dirty_accounts_.ids[i];
    AccountState& a = *accounts_.Find(id);
    if (a.exists) a.touched = epoch_;
    take(EntityKind::kAccount, account_ids_.Name(id), a, a.exists ? codec.EncodeAccount(a, lead_ids_) : std::string(),
         dirty_accounts_.StoredDue(i, next_stored));
    if (!a.exists) accounts_.Free(id);
  }
  next_stored = 0;
  for (size_t i = 0; i < dirty_leads_.size(); ++i) {
    if (i % kEncodeAheadGroup == 0) read += LoadToEncodeLeads(Group(dirty_leads_.ids, i));
    const EntityId id = dirty_leads_.ids[i];
    LeadState& l = *leads_.Find(id);
    if (AccountState* a = l.exists ? accounts_.Find(l.account) : nullptr) a->touched = epoch_;
    take(EntityKind::kLead, lead_ids_.Name(id), l, l.exists ? codec.EncodeLead(l, account_ids_) : std::string(),
         dirty_leads_.StoredDue(i, next_stored));
    if (!l.exists) leads_.Free(id);
  }
  asm volatile("" : : "r"(read));  // the loads are kept: their value is used
  dirty_accounts_.clear();
  dirty_leads_.clear();
  // Once per commit, before the eviction that follows it: the means stay the same
  // between this and the next commit, so the gauge and the bound read one estimate.
  SampleHeap();
}

// A commit's changed entities are cold when TakeChanges encodes them (a batch of
// thousands of events ran since they changed): each reads its index entry, then its
// record, then what the record owns and the names it writes, every step a miss after
// the one before. Read ahead by groups in passes, as Engine::Prefetch reads an
// event's, so that a pass's misses overlap. A name is an entry in the id table and a
// heap block of its length and characters: two reads each.
namespace {
uint64_t LoadName(const IdTable& ids, EntityId id) {
  return ids.LoadEntry(id);
}
uint64_t LoadNameChars(const IdTable& ids, EntityId id) {
  if (id >= ids.size()) return 0;
  const std::string_view name = ids.Name(id);
  return LoadLines(name.data(), name.size());
}
// How many of an account's contacts, and of its leads, have their names read ahead: a
// large account's lists are read a few names at a time anyway.
constexpr size_t kNamesAhead = 16;

// A group's first two passes, alike for both kinds: the index entries and names, then
// the records and the names' characters.
template <typename State>
uint64_t LoadRecordsAndNames(const RecordPool<State>& pool, const IdTable& names, std::span<const EntityId> ids) {
  uint64_t read = 0;
  for (EntityId id : ids) read += pool.LoadIndex(id) + LoadName(names, id);
  for (EntityId id : ids) read += pool.LoadRecord(id) + LoadNameChars(names, id);
  return read;
}

// f(record) for each of the group's entities that exists (one call per later pass).
template <typename State, typename F>
void EachExisting(const RecordPool<State>& pool, std::span<const EntityId> ids, F&& f) {
  for (EntityId id : ids) {
    if (const State* e = pool.Find(id); e && e->exists) f(*e);
  }
}
}  // namespace

uint64_t EntityTable::LoadToEncodeAccounts(std::span<const EntityId> ids) const {
  uint64_t read = LoadRecordsAndNames(accounts_, account_ids_, ids);
  auto each = [&](auto&& f) { EachExisting(accounts_, ids, f); };
  auto each_listed = [&](const AccountState& a, auto&& f) {
    for (size_t i = 0; i < std::min(a.contacts.size(), kNamesAhead); ++i) f(a.contacts[i].first);
    for (size_t i = 0; i < std::min(a.leads.size(), kNamesAhead); ++i) f(a.leads[i]);
  };
  each([&](const AccountState& a) {
    read += LoadElements(a.signals) + a.profile.Load() + LoadElements(a.role_values) +
            LoadElements(a.contacts) + LoadElements(a.leads) + LoadElements(a.role_crossing);
    if (a.has_history()) read += LoadLines(&a.history(), sizeof(EntityHistory));
  });
  each([&](const AccountState& a) { each_listed(a, [&](EntityId lead) { read += LoadName(lead_ids_, lead); }); });
  each([&](const AccountState& a) { each_listed(a, [&](EntityId lead) { read += LoadNameChars(lead_ids_, lead); }); });
  return read;
}

uint64_t EntityTable::LoadToEncodeLeads(std::span<const EntityId> ids) const {
  uint64_t read = LoadRecordsAndNames(leads_, lead_ids_, ids);
  auto each = [&](auto&& f) { EachExisting(leads_, ids, f); };
  each([&](const LeadState& l) {
    read += LoadElements(l.signals) + l.profile.Load() + l.seen.LoadEntries() +
            LoadElements(l.held) + accounts_.LoadIndex(l.account) + LoadName(account_ids_, l.account);
    if (l.has_history()) read += LoadLines(&l.history(), sizeof(EntityHistory));
  });
  each([&](const LeadState& l) {
    if (const AccountState* a = accounts_.Find(l.account)) read += LoadLines(&a->touched, sizeof a->touched);
    read += LoadNameChars(account_ids_, l.account);
  });
  return read;
}

void EntityTable::PrefetchContents(EntityId lead, EntityId account) const {
  if (const LeadState* l = leads_.Find(lead)) {
    PrefetchElements(l->signals);
    l->profile.Prefetch();
    PrefetchElements(l->held);
    l->seen.Prefetch();
  }
  if (const AccountState* a = accounts_.Find(account)) {
    PrefetchElements(a->signals);
    a->profile.Prefetch();
    // An account's role sums are every role's of every signal (the SPEC model: 360 B),
    // its contacts often a few lines: as far as a std::vector's exact hint reached.
    a->role_values.Prefetch(kElementsAheadBytes);
    a->contacts.Prefetch(kElementsAheadBytes / 2);
  }
}

void EntityTable::Evict(size_t max_entities, const std::function<void(const EntityCommon&)>& on_drop) {
  if (loaded_leads_ + loaded_accounts_ <= max_entities) return;
  const size_t target = max_entities - max_entities / 10;  // some room: evict in rounds, not per batch
  std::vector<std::pair<uint64_t, EntityId>> by_age;
  accounts_.ForEach([&](EntityId id, const AccountState& a) {
    if (a.exists && !a.dirty) by_age.emplace_back(a.touched, id);
  });
  std::sort(by_age.begin(), by_age.end());
  for (const auto& [touched, aid] : by_age) {
    if (loaded_leads_ + loaded_accounts_ <= target) break;
    const AccountState& a = *accounts_.Find(aid);
    // An account's lead list names leads never loaded too (ids without a record).
    const bool busy = std::any_of(a.leads.begin(), a.leads.end(), [&](EntityId l) {
      const LeadState* r = leads_.Find(l);
      return r && r->dirty;
    });
    if (busy) continue;
    for (EntityId lid : a.leads) {
      if (FindLead(lid)) Unload(leads_, lid, loaded_leads_, on_drop);
    }
    Unload(accounts_, aid, loaded_accounts_, on_drop);
  }
  ReleaseUnreferencedIds();
}

namespace {

// One kind's sample: up to kSampledPerCall loaded records from slot `cursor` on
// (wrapping), their heap and their name's, folded into `mean` with a quarter weight
// (the first sample sets it).
template <typename State>
void Sample(const RecordPool<State>& records, const IdTable& ids, size_t& cursor, double& mean) {
  if (records.slots() == 0) return;
  double sum = 0;
  size_t seen = 0;
  for (size_t visited = 0; visited < records.slots() && seen < EntityTable::kSampledPerCall; ++visited) {
    if (cursor >= records.slots()) cursor = 0;
    const size_t slot = cursor++;
    const EntityId id = records.OwnerAt(slot);
    const State& e = records.At(slot);
    if (id == kNoEntity || !e.exists) continue;
    sum += static_cast<double>(HeapBytes(e) + (id < ids.size() ? ids.NameHeapBytes(id) : 0));
    ++seen;
  }
  if (seen == 0) return;
  const double batch = sum / static_cast<double>(seen);
  mean = mean < 0 ? batch : mean + 0.25 * (batch - mean);
}

// An interned name's fixed share: its slot in the lookup (kept at most 3/4 full), its
// entry and a free-list entry; its heap block is sampled with its record.
constexpr double kNameCost = sizeof(uint64_t) * 4.0 / 3.0 + IdTable::kEntryBytes + sizeof(EntityId);

}  // namespace

void EntityTable::SampleHeap() {
  Sample(leads_, lead_ids_, lead_cursor_, lead_heap_);
  Sample(accounts_, account_ids_, account_cursor_, account_heap_);
}

double EntityTable::LoadedCost() {
  if ((loaded_leads_ && lead_heap_ < 0) || (loaded_accounts_ && account_heap_ < 0)) SampleHeap();
  const double lead = sizeof(LeadState) + std::max(0.0, lead_heap_) + kNameCost;
  const double account = sizeof(AccountState) + std::max(0.0, account_heap_) + kNameCost;
  return static_cast<double>(loaded_leads_) * lead + static_cast<double>(loaded_accounts_) * account;
}

size_t EntityTable::EntitiesWithin(size_t max_bytes) {
  const size_t loaded = loaded_leads_ + loaded_accounts_;
  if (loaded == 0) return SIZE_MAX;
  const double mean = LoadedCost() / static_cast<double>(loaded);
  // A bound equal to the estimate keeps what is loaded (no rounding down below it).
  return static_cast<size_t>(static_cast<double>(max_bytes) / mean + 1e-6);
}

size_t EntityTable::EstimatedBytes() { return static_cast<size_t>(LoadedCost()); }

// Ids nothing loaded refers to go back to their tables, so memory follows the loaded
// set rather than every id ever seen. A loaded account refers to all its leads.
void EntityTable::ReleaseUnreferencedIds() {
  std::vector<char> lead_used(lead_ids_.size(), 0), account_used(account_ids_.size(), 0);
  accounts_.ForEach([&](EntityId id, const AccountState& a) {
    if (!a.exists && !a.dirty) return;
    account_used[id] = 1;
    for (EntityId l : a.leads) lead_used[l] = 1;
    for (const auto& c : a.contacts) lead_used[c.first] = 1;
  });
  leads_.ForEach([&](EntityId id, const LeadState& l) {
    if (l.exists || l.dirty) lead_used[id] = 1;
  });
  for (EntityId id = 0; id < lead_used.size(); ++id) {
    if (!lead_used[id] && !lead_ids_.Name(id).empty()) lead_ids_.Release(id);
  }
  for (EntityId id = 0; id < account_used.size(); ++id) {
    if (!account_used[id] && !account_ids_.Name(id).empty()) account_ids_.Release(id);
  }
}

}  // namespace leadscore::engine
