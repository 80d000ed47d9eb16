// Input records as plain structs, field for field as leadscore.v1 (SPEC section 2), and
// their encoders: what a producer outside the codec (the synthetic market, benchmarks,
// tools) builds, so that protobuf stays inside src/codec/. Part of the codec's face:
// include "codec/codec.h". Plain values (every field has an initializer, so designated
// initializers may leave any out without a -Wextra warning); the encoders are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "codec/options.h"

namespace leadscore::codec {

// leadscore.v1.EngagementEvent: an Input with `event` set.
struct WireEvent {
  std::string event_id{}, lead_id{}, account_id{}, type{};
  int64_t occurred_at_ms = 0;
  std::map<std::string, std::string> attributes{};
};

// leadscore.v1.LeadProfile: an Input with `lead` set.
struct WireLeadProfile {
  std::string lead_id{}, account_id{}, role{}, seniority{}, title{}, country{}, email_domain{};
  int64_t updated_at_ms = 0;
  std::map<std::string, std::string> attributes{};
};

// leadscore.v1.AccountProfile: an Input with `account` set.
struct WireAccountProfile {
  std::string account_id{}, name{}, industry{};
  int64_t employee_count = 0;
  double annual_revenue = 0;
  std::string country{}, market{};
  int64_t updated_at_ms = 0;
  std::map<std::string, std::string> attributes{};
};

// leadscore.v1.SalesOutcome: read back by tools (backtest); `kind` by its wire name
// ("CLOSED_WON"), as model::kOutcomeKindNames.
struct WireOutcome {
  std::string routing_id{}, lead_id{}, account_id{}, kind{}, reason{};
  double amount = 0;
  int64_t occurred_at_ms = 0;
};

// A leadscore.v1.Input holding the record, as a Kafka message value: binary protobuf
// (deterministic: equal structs give equal bytes), or the protobuf JSON mapping with
// the proto field names, one line. Empty strings and zeros are left out, as proto3 does.
std::string EncodeInput(const WireEvent& event, Format format);
std::string EncodeInput(const WireLeadProfile& lead, Format format);
std::string EncodeInput(const WireAccountProfile& account, Format format);

}  // namespace leadscore::codec
