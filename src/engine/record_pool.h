// Records of one kind by interned id, in a pool: a 4-byte index per id and a record
// only for the ids that have one. Internal to src/engine/ (EntityTable).
//
// Why a pool rather than a table indexed by id: ids are interned for more entities
// than are loaded (every lead a loaded account names, every id of a batch), and a table
// indexed by id keeps a whole record (300 B and more) for each of them, and for every
// hole eviction leaves. At 10 M leads on 8 partitions that was 2.5 GiB of records
// beside a 1 GiB hot set (bench/HISTORY.md). Here an id without a record costs its
// index entry, and the records of evicted entities are reused.
//
// Records live in fixed chunks and never move: a reference stays valid while its
// record is held, whatever else is added (the pool grows by a chunk, not by copying).
// Chunks are kept: the pool holds at most one chunk beyond the most records ever held
// at once (after a round of eviction, the freed records wait for reuse).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/ids.h"
#include "engine/prefetch.h"

namespace leadscore::engine {

template <typename State>
class RecordPool {
 public:
  static constexpr size_t kChunk = 1024;  // records per chunk

  State* Find(EntityId id) {
    if (id >= index_.size() || index_[id] == 0) return nullptr;
    return &At(index_[id] - 1);
  }
  const State* Find(EntityId id) const {
    if (id >= index_.size() || index_[id] == 0) return nullptr;
    return &At(index_[id] - 1);
  }
  // Reads ahead (EntityTable::LoadIndex says when): the id's index entry; every line
  // of its record. Each returns what it read, for the caller to keep.
  uint64_t LoadIndex(EntityId id) const {
    return id < index_.size() ? *static_cast<const volatile uint32_t*>(&index_[id]) : 0;
  }
  uint64_t LoadRecord(EntityId id) const {
    const State* r = Find(id);
    return r ? LoadLines(r, sizeof(State)) : 0;
  }

  // The id's record; a default one first if it has none.
  State& Get(EntityId id) {
    assert(id != kNoEntity);
    if (id >= index_.size()) index_.resize(static_cast<size_t>(id) + 1, 0);
    uint32_t& entry = index_[id];
    if (entry == 0) {
      uint32_t slot;
      if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
      } else {
        slot = static_cast<uint32_t>(owners_.size());
        if (slot % kChunk == 0) chunks_.push_back(std::make_unique<Chunk>());
        owners_.push_back(kNoEntity);
      }
      owners_[slot] = id;
      entry = slot + 1;
    }
    return At(entry - 1);
  }
  // The id's record goes back to the pool as a default record; the id has none after.
  void Free(EntityId id) {
    if (id >= index_.size() || index_[id] == 0) return;
    const uint32_t slot = index_[id] - 1;
    At(slot) = State();
    owners_[slot] = kNoEntity;
    free_.push_back(slot);
    index_[id] = 0;
  }

  // Every held record as f(id, record), in pool order.
  template <typename F>
  void ForEach(F&& f) {
    for (size_t slot = 0; slot < owners_.size(); ++slot) {
      if (owners_[slot] != kNoEntity) f(owners_[slot], At(slot));
    }
  }

  // Slots in use or free, in pool order (a scan that resumes where it stopped).
  size_t slots() const { return owners_.size(); }
  EntityId OwnerAt(size_t slot) const { return owners_[slot]; }  // kNoEntity: a free slot
  State& At(size_t slot) { return chunks_[slot / kChunk]->records[slot % kChunk]; }
  const State& At(size_t slot) const { return chunks_[slot / kChunk]->records[slot % kChunk]; }

  // Bytes of the pool's own: its chunks, the index by id and the slots' owners.
  size_t RecordBytes() const { return chunks_.size() * kChunk * sizeof(State); }
  size_t IndexBytes() const {
    return index_.capacity() * sizeof(uint32_t) + (owners_.capacity() + free_.capacity()) * sizeof(uint32_t);
  }

 private:
  // A chunk is one object, aligned to a cache line: an array made by new[] starts after
  // its count (8 bytes), which put every record of 192 B across four lines, not three.
  struct alignas(kCacheLine) Chunk {
    State records[kChunk];
  };
  std::vector<uint32_t> index_;  // by id: slot + 1, 0 when the id has no record
  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::vector<EntityId> owners_;  // by slot: the id it holds, kNoEntity when free
  std::vector<uint32_t> free_;    // free slots, reused last-freed first
};

}  // namespace leadscore::engine
