// The timer queue's lane for checks set in order (burst runs' ends) beside its heap:
// the checks come out in the order a heap alone gives them, whichever way they were set.
#include "engine/timer_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace leadscore::testing {
namespace {

using engine::EntityId;
using engine::EntityKind;
using engine::kNever;
using engine::Timer;

constexpr EntityId kEntities = 400;

// A table of leads and accounts 1..kEntities, and a queue on it.
struct Queue {
  engine::EntityTable table;
  engine::TimerQueue timers{table};
  Queue() {
    for (EntityId id = 1; id <= kEntities; ++id) {
      table.AddAccount(id);
      table.AddLead(id);
    }
  }
  std::vector<Timer> PopAll(int64_t now) {
    std::vector<Timer> out;
    Timer t;
    while (timers.PopDue(now, &t)) out.push_back(t);
    return out;
  }
};

void ExpectSame(const std::vector<Timer>& got, const std::vector<Timer>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].due, want[i].due) << "check " << i;
    EXPECT_EQ(got[i].kind, want[i].kind) << "check " << i;
    EXPECT_EQ(got[i].id, want[i].id) << "check " << i;
  }
}

TEST(TimerQueueTest, ChecksAtOneTimeComeByKindAndIdWhereverTheyWereQueued) {
  Queue q;
  q.timers.ScheduleInOrder(EntityKind::kLead, 9, 100);
  q.timers.ScheduleInOrder(EntityKind::kLead, 3, 100);      // the same time, a lower id: before 9
  q.timers.Schedule(EntityKind::kAccount, 2, 100);          // the heap
  q.timers.Schedule(EntityKind::kLead, 5, 100);             // the heap, between 3 and 9
  q.timers.ScheduleInOrder(EntityKind::kLead, 7, 90);       // earlier than the lane's last: the heap
  q.timers.ScheduleInOrder(EntityKind::kLead, 1, 200);
  EXPECT_EQ(q.timers.EarliestDue(), 90);
  ExpectSame(q.PopAll(150), {{90, 7, EntityKind::kLead},
                             {100, 3, EntityKind::kLead},
                             {100, 5, EntityKind::kLead},
                             {100, 9, EntityKind::kLead},
                             {100, 2, EntityKind::kAccount}});
  EXPECT_EQ(q.timers.EarliestDue(), 200);  // the lane's entry, still pending
  ExpectSame(q.PopAll(200), {{200, 1, EntityKind::kLead}});
  EXPECT_EQ(q.timers.EarliestDue(), kNever);
}

TEST(TimerQueueTest, ACheckMovedOrDroppedInTheLaneDoesNotFire) {
  Queue q;
  q.timers.ScheduleInOrder(EntityKind::kLead, 4, 100);
  q.timers.ScheduleInOrder(EntityKind::kLead, 6, 110);
  q.timers.Schedule(EntityKind::kLead, 4, 300);            // moved later: the lane's entry is stale
  q.timers.Schedule(EntityKind::kLead, 6, kNever);         // dropped
  ExpectSame(q.PopAll(250), {});
  q.timers.Schedule(EntityKind::kLead, 4, 100);            // earlier than the clock read: due at once
  ExpectSame(q.PopAll(250), {{100, 4, EntityKind::kLead}});
  ExpectSame(q.PopAll(1000), {});  // the heap's entry at 300 is stale now
}

TEST(TimerQueueTest, ACheckMovedBackToItsEntryInTheLaneFiresOnce) {
  Queue q;
  q.timers.ScheduleInOrder(EntityKind::kLead, 4, 100);
  q.timers.Schedule(EntityKind::kLead, 4, kNever);
  q.timers.Schedule(EntityKind::kLead, 4, 100);  // queued again beside the lane's entry, live again too: one fires
  ExpectSame(q.PopAll(150), {{100, 4, EntityKind::kLead}});
  // Taken from the lane, the entry is gone: the same time again is queued anew.
  q.timers.ScheduleInOrder(EntityKind::kLead, 5, 200);
  q.timers.Schedule(EntityKind::kLead, 5, kNever);
  ExpectSame(q.PopAll(250), {});
  q.timers.Schedule(EntityKind::kLead, 5, 200);
  ExpectSame(q.PopAll(250), {{200, 5, EntityKind::kLead}});
}

TEST(TimerQueueTest, ManyChecksAtOneTimeKeepTheirOrder) {
  Queue q;
  // Many ties, set in the reverse of their order: the lane puts them in order at its front.
  for (EntityId id = kEntities; id >= 1; --id) q.timers.ScheduleInOrder(EntityKind::kLead, id, 500);
  std::vector<Timer> want;
  for (EntityId id = 1; id <= kEntities; ++id) want.push_back({500, id, EntityKind::kLead});
  ExpectSame(q.PopAll(500), want);
}

// A time whose entries the lane has put in order (a PopDue looked at its front) takes
// one that comes after them in order, and leaves one that goes among them to the heap.
TEST(TimerQueueTest, ATimeAlreadyInOrderAtTheFrontKeepsItsOrder) {
  Queue q;
  q.timers.ScheduleInOrder(EntityKind::kLead, 9, 500);
  q.timers.ScheduleInOrder(EntityKind::kLead, 3, 500);
  ExpectSame(q.PopAll(100), {});                          // not due; its front is put in order
  q.timers.ScheduleInOrder(EntityKind::kLead, 5, 500);    // among them: the heap
  q.timers.ScheduleInOrder(EntityKind::kLead, 12, 500);   // after them: the lane
  q.timers.ScheduleInOrder(EntityKind::kAccount, 1, 500);
  q.timers.ScheduleInOrder(EntityKind::kLead, 2, 600);    // a later time: ordered when it is the front
  q.timers.ScheduleInOrder(EntityKind::kLead, 1, 600);
  ExpectSame(q.PopAll(500), {{500, 3, EntityKind::kLead},
                             {500, 5, EntityKind::kLead},
                             {500, 9, EntityKind::kLead},
                             {500, 12, EntityKind::kLead},
                             {500, 1, EntityKind::kAccount}});
  q.timers.ScheduleInOrder(EntityKind::kLead, 7, 600);
  ExpectSame(q.PopAll(600), {{600, 1, EntityKind::kLead}, {600, 2, EntityKind::kLead}, {600, 7, EntityKind::kLead}});
}

TEST(TimerQueueTest, RebuildingTheQueueKeepsTheLanesChecks) {
  Queue q;
  // Checks in the lane, then thousands of moves of far checks, each leaving a stale
  // entry, until the queue is rebuilt from the entities (and the lane emptied).
  for (EntityId id = 1; id <= 10; ++id) q.timers.ScheduleInOrder(EntityKind::kLead, id, 100 + id);
  for (int i = 0; i < 10000; ++i) {
    q.timers.Schedule(EntityKind::kAccount, 1 + static_cast<EntityId>(i % 3), 1'000'000 + i);
  }
  q.timers.ScheduleInOrder(EntityKind::kLead, 11, 111);  // after the rebuild, into the lane again
  std::vector<Timer> want;
  for (EntityId id = 1; id <= 11; ++id) want.push_back({100 + static_cast<int64_t>(id), id, EntityKind::kLead});
  EXPECT_EQ(q.timers.EarliestDue(), 101);
  ExpectSame(q.PopAll(200), want);
  ExpectSame(q.PopAll(2'000'000), {{1'000'000 + 9997, 2, EntityKind::kAccount},
                                   {1'000'000 + 9998, 3, EntityKind::kAccount},
                                   {1'000'000 + 9999, 1, EntityKind::kAccount}});
}

// A long random history against the plain account of it (each entity's one due): the
// checks due by each time come out, all of them, in (time, kind, id) order, whether
// queued in order (the lane where it can) or not (the heap). Times mostly move on, as
// stream time does, with ties; checks move later (most), earlier, or are dropped.
TEST(TimerQueueTest, ChecksComeAsThePlainAccountOfEachEntitysDueSays) {
  Queue with_lane, heap_only;
  std::map<std::pair<EntityKind, EntityId>, int64_t> due_of;
  std::mt19937_64 rng(20261206);
  int64_t now = 1000;
  size_t fired = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto kind = rng() % 3 == 0 ? EntityKind::kAccount : EntityKind::kLead;
    const EntityId id = 1 + static_cast<EntityId>(rng() % kEntities);
    const uint64_t what = rng() % 10;
    int64_t due;
    if (what < 6) {
      due = now + 200 + static_cast<int64_t>(rng() % 3);  // a run's end: in order, ties
    } else if (what < 8) {
      due = now + static_cast<int64_t>(rng() % 500);        // anywhere ahead
    } else if (what < 9) {
      due = kNever;
    } else {
      due = now + 1 - static_cast<int64_t>(rng() % 3);      // due now, or already passed
    }
    with_lane.timers.ScheduleInOrder(kind, id, due);
    heap_only.timers.Schedule(kind, id, due);
    if (due == kNever) {
      due_of.erase({kind, id});
    } else {
      due_of[{kind, id}] = due;
    }
    if (rng() % 4 == 0) {
      now += static_cast<int64_t>(rng() % 50);
      std::vector<Timer> want;
      for (auto it = due_of.begin(); it != due_of.end();) {
        if (it->second <= now) {
          want.push_back({it->second, it->first.second, it->first.first});
          it = due_of.erase(it);
        } else {
          ++it;
        }
      }
      std::sort(want.begin(), want.end());
      fired += want.size();
      ExpectSame(with_lane.PopAll(now), want);
      ExpectSame(heap_only.PopAll(now), want);
      int64_t earliest = kNever;
      for (const auto& [entity, due] : due_of) earliest = std::min(earliest, due);
      EXPECT_LE(with_lane.timers.EarliestDue(), earliest) << "a lower bound";
    }
  }
  EXPECT_GT(fired, 10000u) << "most checks fire rather than move or drop";
}

}  // namespace
}  // namespace leadscore::testing
