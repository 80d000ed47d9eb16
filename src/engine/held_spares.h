// Containers of the burst filter's ended runs, kept for the next runs to reuse.
// Internal to src/engine/ (Transitions; one per Engine).
//
// Under a burst filter every event is held until its run ends: a lead's list of runs, a
// run's events and an event's attributes were three allocations per event and three
// frees when the run ended, most of the engine step's malloc (bench/HISTORY.md).
// Ended runs give their containers back here and new runs take them, so a held event
// allocates nothing once the engine has run a while. A lead whose runs have all ended
// gives back its list too: it keeps no capacity, and its memory is as before. At most
// kKept of each kind are kept, each with the capacity its run needed (a run keeps fewer
// events than the burst size, an event the model's event attribute slots).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "engine/state.h"

namespace leadscore::engine {

class HeldSpares {
 public:
  static constexpr size_t kKept = 1024;

  // An empty list of runs for a lead that has none (with the capacity of an earlier one).
  void ReuseFor(CompactVector<HeldRun>& held) {
    if (held.capacity() == 0 && !runs_.empty()) {
      held = std::move(runs_.back());
      runs_.pop_back();
    }
  }
  // A new run, its events' list taken from an ended run.
  HeldRun NewRun(int64_t release_at_ms, int64_t first_ms, int64_t last_ms) {
    HeldRun run{.release_at_ms = release_at_ms, .first_ms = first_ms, .last_ms = last_ms};
    if (!events_.empty()) {
      run.events = std::move(events_.back());
      events_.pop_back();
    }
    return run;
  }
  // A held event with a copy of `attributes`, in a reused list.
  HeldEvent NewEvent(int64_t at_ms, uint16_t signal, const std::vector<model::FieldValue>& attributes) {
    HeldEvent ev{.at_ms = at_ms, .signal = signal, .attributes = {}};
    if (!attributes_.empty()) {
      ev.attributes = std::move(attributes_.back());
      attributes_.pop_back();
    }
    ev.attributes.assign(attributes.begin(), attributes.end());
    return ev;
  }

  // The run's events are done with (scored or dropped): their containers come back and
  // the run is left without events.
  void GiveBackEvents(HeldRun& run) {
    for (HeldEvent& ev : run.events) Keep(attributes_, std::move(ev.attributes));
    run.events.clear();
  }
  void GiveBack(HeldRun& run) {
    GiveBackEvents(run);
    Keep(events_, std::move(run.events));
  }
  // A lead's list of runs, once it has none left.
  void GiveBack(CompactVector<HeldRun>& held) { Keep(runs_, std::move(held)); }

 private:
  template <typename List>
  static void Keep(std::vector<List>& spares, List&& v) {
    if (v.capacity() != 0 && spares.size() < kKept) {
      v.clear();
      spares.push_back(std::move(v));
    }
    v = List();  // whatever was not kept is freed now, not left with its owner
  }

  std::vector<CompactVector<HeldRun>> runs_;
  std::vector<std::vector<HeldEvent>> events_;
  std::vector<std::vector<model::FieldValue>> attributes_;
};

}  // namespace leadscore::engine
