// Interned ids: the engine works on dense integers, strings stay at the edge.
// Not thread-safe; owned by the engine's single processing thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace leadscore::engine {

using EntityId = uint32_t;
constexpr EntityId kNoEntity = UINT32_MAX;

class IdTable {
 public:
  EntityId Intern(std::string_view id) {
    auto it = by_name_.find(id);
    if (it != by_name_.end()) return it->second;
    EntityId n;
    if (!free_.empty()) {
      n = free_.back();
      free_.pop_back();
      names_[n] = id;
    } else {
      n = static_cast<EntityId>(names_.size());
      names_.emplace_back(id);
    }
    by_name_.emplace(names_[n], n);
    return n;
  }
  // Gives the id back for reuse: the caller guarantees nothing refers to it any more.
  void Release(EntityId id) {
    by_name_.erase(names_[id]);
    names_[id].clear();
    names_[id].shrink_to_fit();
    free_.push_back(id);
  }
  EntityId Find(std::string_view id) const {
    auto it = by_name_.find(id);
    return it == by_name_.end() ? kNoEntity : it->second;
  }
  const std::string& Name(EntityId id) const { return names_[id]; }
  size_t size() const { return names_.size(); }  // highest id + 1
  size_t live() const { return by_name_.size(); }

 private:
  // Transparent: looking up a string_view builds no string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, EntityId, Hash, std::equal_to<>> by_name_;
  std::vector<std::string> names_;
  std::vector<EntityId> free_;
};

}  // namespace leadscore::engine
