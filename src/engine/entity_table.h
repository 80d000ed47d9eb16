// The lead and account records an engine holds, by interned id, and what the store
// needs to know about them: which changed since the last TakeChanges, and which may be
// dropped from memory (least recently touched first) once their state is durable.
// Internal to src/engine/; one per Engine, not thread-safe.
//
// Records are in pools (record_pool.h): an id has a record while its entity is loaded
// or listed as changed. A record with exists = false is a forgotten entity: it stays
// listed as changed until TakeChanges reports the erase, so it still counts as Known
// (the store's copy is stale and must not be loaded over it), and then goes back to
// the pool, as an evicted entity's does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/ids.h"
#include "engine/record_pool.h"
#include "engine/snapshot_codec.h"
#include "engine/state.h"

namespace leadscore::engine {

class EntityTable {
 public:
  IdTable& lead_ids() { return lead_ids_; }
  IdTable& account_ids() { return account_ids_; }
  const IdTable& lead_ids() const { return lead_ids_; }
  const IdTable& account_ids() const { return account_ids_; }

  // Loaded entities; nullptr for an id with none.
  const LeadState* FindLead(EntityId id) const {
    const LeadState* l = leads_.Find(id);
    return l && l->exists ? l : nullptr;
  }
  const AccountState* FindAccount(EntityId id) const {
    const AccountState* a = accounts_.Find(id);
    return a && a->exists ? a : nullptr;
  }
  LeadState* FindLead(EntityId id) { return const_cast<LeadState*>(std::as_const(*this).FindLead(id)); }
  AccountState* FindAccount(EntityId id) { return const_cast<AccountState*>(std::as_const(*this).FindAccount(id)); }
  EntityCommon* Find(EntityKind kind, EntityId id) {
    if (kind == EntityKind::kLead) return FindLead(id);
    return FindAccount(id);
  }

  // Reading ahead (Engine::Prefetch) an event's lead and account: an event reads the
  // index entries, which give the records, which point to what they own, each a cache
  // miss after the one before. The index entries and the records are read (loads;
  // each returns what it read, for the caller to keep), what the records own is asked
  // for with hints (engine/prefetch.h). Contents: what an event reads of them (sums,
  // profile slots, held runs, dedupe ids; the account's sums, role sums, contacts).
  uint64_t LoadIndex(EntityId lead, EntityId account) const {
    return leads_.LoadIndex(lead) + accounts_.LoadIndex(account);
  }
  uint64_t LoadRecords(EntityId lead, EntityId account) const {
    return leads_.LoadRecord(lead) + accounts_.LoadRecord(account);
  }
  void PrefetchContents(EntityId lead, EntityId account) const;

  // Loaded, or changed since TakeChanges (a forgotten entity whose erase is not yet taken).
  bool Known(EntityKind kind, EntityId id) const {
    const EntityCommon* e = kind == EntityKind::kLead ? static_cast<const EntityCommon*>(leads_.Find(id))
                                                      : static_cast<const EntityCommon*>(accounts_.Find(id));
    return e && (e->exists || e->dirty);
  }
  std::vector<EntityId> LeadsOf(EntityId account) const {
    const AccountState* a = FindAccount(account);
    return a ? std::vector<EntityId>(a->leads.begin(), a->leads.end()) : std::vector<EntityId>();
  }
  size_t loaded_leads() const { return loaded_leads_; }
  size_t loaded_accounts() const { return loaded_accounts_; }

  // A new, empty entity at `id`, listed as changed; the caller gives it its first state.
  LeadState& AddLead(EntityId id);
  AccountState& AddAccount(EntityId id);
  // An entity read from the store: unchanged, and touched now (with a lead, its account)
  // for eviction. A lead's account must be loaded.
  LeadState& InsertLead(EntityId id, LeadState lead);
  AccountState& InsertAccount(EntityId id, AccountState account);
  // Empties a forgotten entity, listed for TakeChanges, which reports the erase.
  void EraseLead(EntityId id);
  void EraseAccount(EntityId id);

  // Lists the entity for the next TakeChanges (Mark).
  void MarkLead(EntityId id);
  void MarkAccount(EntityId id);
  // The same, given the id's record (as the engine's steps have it): no lookup. Marking
  // looked its record up three and a half times an event in engine_bench, 1.6 % of
  // the step's instructions.
  //
  // The listing keeps the entity's check as the store has it (its timer index key;
  // kNever: none), for TakeChanges to hand over beside the new one. An entity not
  // listed has the store's check as its `due`: TimerQueue lists an entity before it
  // moves its check, and one read from the store with a check other than its stored
  // one is listed with that (TimerQueue::ScheduleLoaded). So the record keeps no copy.
  void Mark(EntityKind kind, EntityId id, EntityCommon& e) { Mark(kind, id, e, e.due); }
  void Mark(EntityKind kind, EntityId id, EntityCommon& e, int64_t stored_due) {
    if (e.dirty) return;
    e.dirty = true;
    (kind == EntityKind::kLead ? dirty_leads_ : dirty_accounts_).Add(id, stored_due);
  }
  void MarkLead(EntityId id, LeadState& l) { Mark(EntityKind::kLead, id, l); }
  void MarkAccount(EntityId id, AccountState& a) { Mark(EntityKind::kAccount, id, a); }

  // Every entity changed since the last call, accounts first, in the order they first
  // changed: its bytes (empty when erased) and its next decay check beside the one
  // handed over before. Starts a new eviction epoch.
  void TakeChanges(const SnapshotCodec& codec, std::vector<Engine::Change>* out);

  // Drops unchanged accounts with their loaded leads, least recently touched first,
  // until at most `max_entities` leads and accounts stay loaded (a tenth below it, so
  // that eviction runs in rounds rather than every batch). Accounts with a changed
  // lead stay. `on_drop` sees each entity before it goes. Then releases every id that
  // nothing loaded refers to.
  void Evict(size_t max_entities, const std::function<void(const EntityCommon&)>& on_drop);

  // The hot set in bytes (state.cache_mb). What one loaded lead or account costs in
  // memory is its record's slot, the heap its containers own (state_bytes.h) and its
  // interned name; the heap part is a moving mean over samples of loaded entities (a
  // rotating cursor, kSampledPerCall of each kind per TakeChanges), so it costs the
  // same at any size. EntitiesWithin: how many loaded entities, in the current mix of
  // leads and accounts, fit in `max_bytes` (SIZE_MAX when none is loaded yet).
  // EstimatedBytes: loaded entities times their mean cost, for the gauge. Both sample
  // first when a kind that is loaded has no mean yet.
  size_t EntitiesWithin(size_t max_bytes);
  size_t EstimatedBytes();
  // Memory the record pools hold beyond the loaded entities: records with none loaded
  // (free slots, the rest of the last chunk, forgotten entities not yet taken) and the
  // index by id. Not part of the estimate above; for the benchmark's account of
  // resident memory.
  size_t UnloadedSlotBytes() const {
    return leads_.RecordBytes() - loaded_leads_ * sizeof(LeadState) + leads_.IndexBytes() +
           accounts_.RecordBytes() - loaded_accounts_ * sizeof(AccountState) + accounts_.IndexBytes();
  }
  static constexpr size_t kSampledPerCall = 64;

  // Every loaded entity of a kind, as f(id, record), in no particular order (the timer
  // queue's compaction).
  template <typename F>
  void ForEachLoaded(EntityKind kind, F&& f) {
    auto loaded = [&f](EntityId id, EntityCommon& e) {
      if (e.exists) f(id, e);
    };
    if (kind == EntityKind::kLead) {
      leads_.ForEach(loaded);
    } else {
      accounts_.ForEach(loaded);
    }
  }

 private:
  void ReleaseUnreferencedIds();
  // TakeChanges' read-ahead: what encoding a group of changed entities reads (engine/prefetch.h).
  uint64_t LoadToEncodeAccounts(std::span<const EntityId> accounts) const;
  uint64_t LoadToEncodeLeads(std::span<const EntityId> leads) const;

  // The entities of a kind listed for TakeChanges, in the order they first changed,
  // and the check the store has for each (Mark), kept apart for those that have one:
  // a new entity, or one without a check, costs its 4-byte id (a million profiles
  // applied before a commit list a million entities).
  struct Listing {
    std::vector<EntityId> ids;
    std::vector<std::pair<uint32_t, int64_t>> stored_dues;  // (place in ids, due), by place

    size_t size() const { return ids.size(); }
    void Add(EntityId id, int64_t stored_due) {
      if (stored_due != kNever) stored_dues.emplace_back(static_cast<uint32_t>(ids.size()), stored_due);
      ids.push_back(id);
    }
    // The store's check for ids[i], for each i in increasing order; `next`: the
    // caller's place in stored_dues (0 at the first i).
    int64_t StoredDue(size_t i, size_t& next) const {
      if (next < stored_dues.size() && stored_dues[next].first == i) return stored_dues[next++].second;
      return kNever;
    }
    void clear() {
      ids.clear();
      stored_dues.clear();
    }
  };

  IdTable lead_ids_, account_ids_;
  RecordPool<LeadState> leads_;
  RecordPool<AccountState> accounts_;
  Listing dirty_leads_, dirty_accounts_;
  size_t loaded_leads_ = 0, loaded_accounts_ = 0;
  uint64_t epoch_ = 0;  // TakeChanges calls: the age of an entity for eviction
  void SampleHeap();
  double LoadedCost();  // the loaded entities' estimated bytes, sampling first if need be
  double lead_heap_ = -1, account_heap_ = -1;  // mean heap bytes per loaded entity; -1: none sampled
  size_t lead_cursor_ = 0, account_cursor_ = 0;
};

}  // namespace leadscore::engine
