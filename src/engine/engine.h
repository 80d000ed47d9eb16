// The scoring engine: pure and deterministic. It turns decoded inputs into state
// changes and routing events. It does no I/O and reads no clock: stream time comes
// from the events and profiles themselves, and Advance(now) moves it on for decay.
//
// The arithmetic is SPEC.md section 3. Not thread-safe: one Engine per processing
// thread (per partition group); the Model it holds is shared read-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/ids.h"
#include "model/model.h"

namespace leadscore::engine {

// ---- inputs (already decoded and validated; ids interned) ---------------------------
constexpr uint16_t kUnknownSignal = UINT16_MAX;

struct EventInput {
  uint64_t event_key = 0;  // stable hash of event_id, for dedupe
  EntityId lead = kNoEntity;
  EntityId account = kNoEntity;
  uint16_t signal = kUnknownSignal;  // kUnknownSignal: counted and skipped
  int64_t occurred_at_ms = 0;
  std::vector<model::FieldValue> attributes;  // the model's event.attributes slots
};
struct LeadProfileInput {
  EntityId lead = kNoEntity;
  EntityId account = kNoEntity;
  int64_t updated_at_ms = 0;
  std::vector<model::FieldValue> fields;  // the model's lead slots
  // The whole profile, every field and attribute (model/profile.h; the slots above are
  // read from it): kept with the state so that a later model reads any field.
  std::string whole;
};
struct AccountProfileInput {
  EntityId account = kNoEntity;
  int64_t updated_at_ms = 0;
  std::vector<model::FieldValue> fields;  // the model's account slots
  std::string whole;                      // as for a lead
};
enum class OutcomeKind : int8_t { kUnspecified, kAccepted, kRejected, kOpportunityCreated, kClosedWon, kClosedLost };
struct OutcomeInput {
  std::string routing_id;
  EntityId lead = kNoEntity;
  EntityId account = kNoEntity;
  OutcomeKind kind = OutcomeKind::kUnspecified;
  double amount = 0;
  int64_t occurred_at_ms = 0;
};
struct ForgetInput {
  EntityId lead = kNoEntity;     // set: forget this lead
  EntityId account = kNoEntity;  // set alone: forget the account and all its leads
  bool relayed = false;          // from another partition: not relayed again
};
// A lead changing partition (its account moved to an account another partition holds;
// stream/ carries these between partition tasks, README "A lead that changes
// partition"). Another partition claimed the lead: if it is held here it leaves (its
// account stops counting it) and its whole state goes out as a Handoff to `to_partition`.
struct LeadReleaseInput {
  EntityId lead = kNoEntity;
  EntityId account = kNoEntity;  // unused: the lead's own account is the one it leaves
  int32_t to_partition = -1;
  int64_t at_ms = 0;  // the claimant's stream time: stream time moves on to it here too
};
// The state another partition released: merged into the lead held here (which claimed it).
struct LeadAdoptInput {
  EntityId lead = kNoEntity;
  EntityId account = kNoEntity;  // unused: the lead stays in the account it has here
  std::string state;             // the engine's snapshot of the lead, as released
  int64_t at_ms = 0;             // its clock: the releasing partition's stream time
};
using Input = std::variant<EventInput, LeadProfileInput, AccountProfileInput, OutcomeInput, ForgetInput,
                           LeadReleaseInput, LeadAdoptInput>;

// What a partition must tell the others (EngineOptions::hand_off_leads).
struct Handoff {
  enum class Kind : uint8_t {
    kClaim,     // a lead new to this partition: whoever holds it, release it to us
    kTransfer,  // a released lead's state, for `to_partition`
    kForget,    // a Forget of a lead, for every other partition
  };
  Kind kind = Kind::kClaim;
  std::string lead_id;
  int32_t to_partition = -1;  // kTransfer only; the others go to every other partition
  std::string state;          // kTransfer: the lead's snapshot
  int64_t at_ms = 0;          // this partition's stream time (a transfer's state is at it)
};

// ---- outputs -----------------------------------------------------------------------
// What Apply did with an input. A skip is not an error (the input was valid); callers
// count skips by this value, and OutcomeName gives the metric label.
enum class ApplyOutcome : uint8_t {
  kApplied,        // taken into the state (an outcome or Forget for an entity not held changes nothing)
  kUnknownSignal,  // an event whose type is not a signal of the model
  kDuplicate,      // an event id the lead has already had
  kTooLate,        // an event too old to be told from a duplicate (see dedupe_window_ms)
  kStaleProfile,   // a profile older than the one held
  kFiltered,       // an event a `when` filter drops (ApplyResult::filter says which)
  kHeld,           // an event the burst filter holds: scored or dropped later (TakeSettled)
};
inline constexpr size_t kApplyOutcomes = 7;
// "applied", "unknown_signal", "duplicate", "too_late", "stale_profile", "filtered", "held".
std::string_view OutcomeName(ApplyOutcome outcome);

constexpr uint16_t kNoFilter = UINT16_MAX;
struct ApplyResult {
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  uint16_t filter = kNoFilter;  // kFiltered: the index of the filter in the model's `filters`
  bool operator==(const ApplyResult&) const = default;
};

// Held events that left the burst filter's hold since the last TakeSettled: each was
// ApplyOutcome::kHeld when applied, and is counted once more here.
struct Settled {
  uint64_t applied = 0;  // scored when their run ended short (or erased with their lead by a Forget)
  uint64_t dropped = 0;  // dropped whole with a run of the burst filter's `events` or more
};

enum class EntityKind : int8_t { kLead, kAccount };
enum class Direction : int8_t { kUp, kDown };

struct Factor {
  std::string name;
  double points = 0;   // fit rule points, or a signal's decayed (capped) points
  int32_t count = 0;   // events of the signal (0 for fit rules)
  int64_t last_at_ms = 0;
};

struct RoutingEvent {
  std::string routing_id;
  EntityKind entity = EntityKind::kLead;
  std::string lead_id;  // empty for accounts
  std::string account_id;
  std::string from_tier, to_tier;
  Direction direction = Direction::kUp;
  double fit = 0, intent = 0, score = 0;
  std::string grade;
  std::vector<Factor> factors;
  std::vector<std::string> committee_roles;
  int32_t engaged_contacts = 0;
  std::string model_version;
  int64_t occurred_at_ms = 0;
  int64_t sla_due_at_ms = 0;
  std::string action, feedback, reason;
};

// ---- views (HTTP, tests) -----------------------------------------------------------
struct TierChangeView {
  std::string from_tier, to_tier;
  int64_t at_ms = 0;
  std::string routing_id;
};
struct EntityView {
  std::string id;
  std::string account_id;  // leads: their account
  double fit = 0, intent = 0, score = 0, coverage = 0;
  std::string grade, tier;
  bool disqualified = false;
  std::vector<Factor> factors;  // every contributor with |points| >= 0.01, largest first
  std::vector<std::string> committee_roles;
  int32_t engaged_contacts = 0;
  std::vector<double> signal_points;  // per model signal, decayed, uncapped
  std::vector<TierChangeView> recent_changes;  // oldest first
  int32_t held_events = 0;  // leads: events the burst filter holds, not scored yet
  int64_t as_of_ms = 0;
  int64_t next_check_ms = 0;  // when decay may next change the tier; INT64_MAX: never
  int64_t suppressed_until_ms = 0;  // in tier `suppressed`: when it ends; 0 otherwise
  int32_t lead_count = 0;     // accounts: known leads
};

// The layout of an entity's bytes (TakeChanges, Restore). From 5 on the bytes name
// signals, tiers and roles, keep intent in units without points and keep whole
// profiles, so they are read under any model; a store whose entities are older is
// rewritten once (under the model that wrote it) before a model change.
inline constexpr int kStateFormat = 5;

// The tier an entity's stored bytes (Engine::Change::bytes) are in, by name; an error
// for bytes older than format 5, which number their tiers under the model that wrote them.
Result<std::string> StoredTierName(std::string_view bytes);
// The same bytes in tier `tier` instead: `leadscore rebuild` puts a rebuilt entity in the
// tier the live state had it in, so that Reevaluate announces where the two differ. A
// name the model has not (empty: an entity the live state did not know) reads as the
// lowest tier.
Result<std::string> WithStoredTier(std::string_view bytes, std::string_view tier);

struct EngineOptions {
  // Event ids are remembered per lead for events whose time is within this window of
  // stream time. An older event cannot be told from a duplicate, so it is skipped and
  // counted as too_late rather than risk counting it twice.
  int64_t dedupe_window_ms = 90LL * 24 * 3600 * 1000;
  // Upper bound of remembered ids per lead; past it the oldest are forgotten and the
  // lead's horizon moves up to them.
  size_t dedupe_max_ids_per_lead = 1024;
  // Upper bound of contacts tracked per account for engaged_contacts.
  size_t max_contacts_per_account = 10000;
  // Tier changes kept per entity for the views.
  size_t recent_changes = 10;
  // More than one partition shares the leads: a lead new here is claimed from the
  // others, and a Forget of a lead is relayed to them (TakeHandoffs).
  bool hand_off_leads = false;
};

struct EngineStats {
  uint64_t inputs = 0;
  uint64_t events_scored = 0;
  uint64_t skipped_unknown_signal = 0;
  uint64_t skipped_duplicate = 0;
  uint64_t skipped_too_late = 0;
  uint64_t profiles_applied = 0;
  uint64_t profiles_stale = 0;  // older than the profile already held
  uint64_t outcomes = 0;
  uint64_t outcome_signals_scored = 0;   // outcomes scored as a feedback signal
  uint64_t outcome_signals_skipped = 0;  // ... not: a repeat, or older than the dedupe window
  uint64_t forgets = 0;
  uint64_t routing_events = 0;
  uint64_t decay_checks = 0;  // timer firings
  uint64_t events_filtered = 0;  // dropped by a `when` filter
  uint64_t events_held = 0;      // held by the burst filter as they came
  uint64_t held_dropped = 0;     // ... dropped with their run
  uint64_t leads_released = 0;   // handed to another partition
  uint64_t leads_adopted = 0;    // ... merged here from another
  uint64_t handoffs_dropped = 0; // a transfer for a lead no longer here (forgotten meanwhile)
};

class Engine {
 public:
  Engine(std::shared_ptr<const model::Model> model, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies one input at stream time (an event, or a profile that is applied, first
  // moves stream time on to its own time if later, firing the decay crossings due
  // until then). Appends routing events and says whether the input was applied,
  // skipped (and why), dropped by a filter or held by the burst filter.
  //
  // Filters (SPEC section 3): an event matching a `when` filter is dropped and moves
  // nothing. With a burst filter every event that passes is held, with its lead, for
  // `within` of stream time from its run's first arrival; events of a lead less than
  // `within` apart (by occurred_at) join one run. When stream time reaches the run's
  // end, a run of `events` or more is dropped whole and a shorter one is scored then
  // (its events decayed from their own times). Held events are state: they are in the
  // lead's snapshot, and a run's end is one of the lead's timer checks.
  ApplyResult Apply(const Input& input, std::vector<RoutingEvent>* out);
  // For a caller that applies a run of inputs, called before it applies each
  // inputs[next], in order: at the first input of each group of kReadAheadGroup, what
  // the group's events will read is read ahead (their entities' index entries and
  // records) or asked for (what those own). Changes no result.
  static constexpr size_t kReadAheadGroup = 32;
  void Prefetch(std::span<const Input> inputs, size_t next) const;

  // The clock bounds stream time from now on: an event (or profile, or handoff) stamped
  // later than `clock_ms` is taken at `clock_ms` (a producer's clock ahead of ours), so
  // one record from the future cannot decay every other entity early. Without a call
  // (replay) records' own times are stream time, however far ahead.
  void BoundTimeBy(int64_t clock_ms);

  // Moves stream time on to now (never back) and emits, in time order, every tier
  // change that decay causes up to now, each at the first millisecond it holds.
  void Advance(int64_t now_ms, std::vector<RoutingEvent>* out);

  // What other partitions must be told since the last call, in order; resets it.
  std::vector<Handoff> TakeHandoffs();

  // Held events decided since the last call (by Apply or Advance), for the caller's
  // counts; resets them.
  Settled TakeSettled();

  int64_t stream_time() const;
  // The earliest stream time at which a loaded entity may change without an input (a
  // decay check, a burst run's end); INT64_MAX: none. Possibly earlier than the real one,
  // never later: a loop that wakes then and calls Advance misses nothing.
  int64_t NextCheckAt() const;
  const EngineStats& stats() const;
  const model::Model& model() const;

  IdTable& lead_ids();
  IdTable& account_ids();

  // Persistence. Entities changed since the last call: their id and serialized state,
  // or empty bytes for an entity that was forgotten, with their next decay check (the
  // store's timer index key) and the one handed over before. The bytes depend on the
  // model (slot and tier indices), so a store keeps the model_version beside them.
  struct Change {
    EntityKind kind;
    std::string id;
    std::string bytes;  // empty: erased
    int64_t due_ms = INT64_MAX;           // INT64_MAX: no decay check pending
    int64_t previous_due_ms = INT64_MAX;  // as in the last Change of this entity
  };
  void TakeChanges(std::vector<Change>* out);
  // Loads one entity written by TakeChanges, with the due_ms stored beside it; a lead's
  // account must be loaded first. Fit and disqualification are derived, and so is the
  // decay timer, but for an account written under this model in this format with its
  // due_ms given: that is its timer (an account's check may be an earlier bound than a
  // solve from its state gives, and a store must give it back).
  Status Restore(EntityKind kind, std::string_view id, std::string_view bytes,
                 std::optional<int64_t> stored_due_ms = std::nullopt);
  // Stream time as stored with the state: called when a partition is resumed.
  void ResumeAt(int64_t stream_time_ms);

  // ---- model changes (SPEC section 3, "Changing the model") ---------------------------
  // State written under one model is restored into an Engine of another. Re-evaluates a
  // loaded account and its leads (all of them loaded: LeadsOf) at stream time under this
  // engine's model: what follows from the model (fit, disqualification, roles, committee,
  // the next check) is derived again, and each tier change is a routing event whose
  // reason begins with `reason_prefix` ("model OLD -> NEW"). Every entity it touches is
  // changed (TakeChanges writes it in the current format), tier change or not.
  void Reevaluate(EntityId account, std::string_view reason_prefix, std::vector<RoutingEvent>* out);

  // ---- residency: the engine as a hot cache in front of a store ----------------------
  // A service may keep only some entities in the engine. Before an input or a due decay
  // check touches an entity, the entity must be loaded (Restore) if the store has it:
  // an entity that is not Known is taken as new.
  bool Known(EntityKind kind, EntityId id) const;  // loaded, or changed since TakeChanges
  // The account a stored lead belongs to (to load it before the lead).
  Result<std::string> StoredLeadAccount(std::string_view bytes) const;
  // The leads of a loaded account (an account profile or a forget touches them all).
  std::vector<EntityId> LeadsOf(EntityId account) const;
  size_t loaded_leads() const;
  size_t loaded_accounts() const;
  // When more than `max_entities` leads and accounts together are loaded, or more than
  // fit in `max_bytes` (0: no byte bound) at their estimated cost in memory
  // (entity_table.h), drops unchanged accounts, each with its loaded leads, least
  // recently touched first, until a tenth below it; their ids are released. Call only
  // after TakeChanges and after their state is durable.
  void Evict(size_t max_entities, size_t max_bytes = 0);
  // The loaded entities' estimated cost in memory: records, their heap, their names.
  size_t HotSetBytes();
  // Record slots held with no entity loaded in them (entity_table.h), not in the above.
  size_t UnloadedSlotBytes() const;

  std::optional<EntityView> ViewLead(std::string_view lead_id) const;
  std::optional<EntityView> ViewAccount(std::string_view account_id) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leadscore::engine
