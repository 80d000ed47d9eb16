#include "codec/codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/proto_json.h"
#include "common/hash.h"
#include "leadscore/v1/leadscore.pb.h"
#include "model/profile.h"

namespace leadscore::codec {
namespace {

// A decoding refusal: readable text for the dead letter, the reason as a value.
Status Refuse(Refusal reason, std::string message) {
  return Status::InvalidArgument(std::move(message)).WithReason(reason);
}


namespace v1 = ::leadscore::v1;
using model::FieldValue;

using model::NumberValue;
using model::TextValue;

// Sorted by key: a protobuf map's order is not defined, and the state's bytes must be
// the same for the same profile.
template <typename Map>
void AddAttributes(const Map& attrs, model::WholeProfileWriter& whole) {
  std::vector<std::pair<std::string_view, std::string_view>> sorted(attrs.begin(), attrs.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [k, v] : sorted) whole.Attribute(k, v);
}

template <typename Map>
void FillAttributes(const model::Model& m, const std::vector<std::string>& names, const Map& attrs, FieldValue* out) {
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = attrs.find(names[i]);
    if (it != attrs.end()) out[i] = TextValue(m, it->second);
  }
}

// Ids reach views, logs, headers and routing events: valid UTF-8 without control
// characters (C0, DEL, C1), or the record is refused.
bool PrintableUtf8(std::string_view s) {
  // Most ids are printable ASCII (0x20-0x7E): that is checked first, eight bytes at a
  // time (the walk below took 190 instructions for a 17-byte id). In a word, some byte
  // is below 0x20 when subtracting 0x20 from each borrows into a byte whose top bit was
  // clear, and some byte is above 0x7E when adding 1 to each, or the byte itself, sets
  // a top bit (Bit Twiddling Hacks, "determine if a word has a byte less/greater than n").
  constexpr uint64_t kOnes = 0x0101010101010101, kTops = 0x8080808080808080;
  uint64_t outside = 0;
  size_t at = 0;
  for (; at + 8 <= s.size(); at += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + at, 8);
    outside |= ((x - 0x20 * kOnes) & ~x) | (x + kOnes) | x;
  }
  outside &= kTops;
  for (; at < s.size(); ++at) outside |= static_cast<unsigned char>(s[at]) - 0x20u >= 0x5Fu;
  if (!outside) return true;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) cp = c, n = 1;
    else if ((c & 0xE0) == 0xC0) cp = c & 0x1F, n = 2;
    else if ((c & 0xF0) == 0xE0) cp = c & 0x0F, n = 3;
    else if ((c & 0xF8) == 0xF0) cp = c & 0x07, n = 4;
    else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // overlong, surrogate
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
    i += n;
  }
  return true;
}

// The first key that an object of `json` has twice; empty if none (or not JSON: the
// protobuf parser says why). protobuf's parser would keep the last silently.
std::string DuplicateKey(std::string_view json) {
  struct Sax : nlohmann::json_sax<nlohmann::json> {
    std::vector<std::set<std::string>> objects;
    std::string duplicate;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
      objects.emplace_back();
      return true;
    }
    bool key(string_t& k) override {
      if (!objects.back().insert(k).second) duplicate = k;
      return duplicate.empty();
    }
    bool end_object() override {
      objects.pop_back();
      return true;
    }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  } sax;
  nlohmann::json::sax_parse(json.begin(), json.end(), &sax);
  return sax.duplicate;
}

class Checker {
 public:
  Checker(const DecoderOptions& o, std::optional<std::string_view> key) : o_(o), key_(key) {}

  Status Id(const std::string& value, const char* what) const {
    if (value.empty()) return Refuse(Refusal::kMissingField, std::string("missing required field ") + what);
    return OptionalId(value, what);
  }
  Status OptionalId(const std::string& value, const char* what) const {
    if (value.size() > o_.max_id_bytes) {
      return Refuse(Refusal::kTooLarge, std::string(what) + " is longer than " + std::to_string(o_.max_id_bytes) +
                                     " bytes");
    }
    if (!PrintableUtf8(value)) {
      return Refuse(Refusal::kBadId, std::string(what) + " '" + Printable(value) +
                                         "' is not printable UTF-8 (control characters or invalid bytes)");
    }
    return Status::Ok();
  }
  Status Key(const std::string& account_id) const {
    if (key_ && *key_ != account_id) {
      return Refuse(Refusal::kKeyMismatch, "Kafka key '" + Printable(*key_) + "' differs from account_id '" +
                                     Printable(account_id) + "'");
    }
    return Status::Ok();
  }
  template <typename Map>
  Status Attributes(const Map& attrs, const char* what) const {
    if (attrs.size() > o_.max_attributes) {
      return Refuse(Refusal::kTooLarge, std::string(what) + " has " + std::to_string(attrs.size()) +
                                     " entries (limit " + std::to_string(o_.max_attributes) + ")");
    }
    for (const auto& [k, v] : attrs) {
      if (k.size() + v.size() > o_.max_attribute_bytes) {
        return Refuse(Refusal::kTooLarge, std::string(what) + " entry '" + Printable(k.substr(0, 64)) + "' is " +
                                       std::to_string(k.size() + v.size()) + " bytes (limit " +
                                       std::to_string(o_.max_attribute_bytes) + ")");
      }
    }
    return Status::Ok();
  }

  // Ids in messages: printable, short.
  static std::string Printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 128)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    return out;
  }

 private:
  const DecoderOptions& o_;
  std::optional<std::string_view> key_;
};

}  // namespace

Decoder::Decoder(const model::Model& model, engine::IdTable& leads, engine::IdTable& accounts, DecoderOptions options)
    : model_(model), leads_(leads), accounts_(accounts), options_(options) {}

// (Parsing into an arena the decoder keeps, emptied after each record, was measured and
// not kept: the arena's bookkeeping cost the instructions the heap's allocations did.)
Result<engine::Input> Decoder::Decode(std::string_view bytes, Format format, std::optional<std::string_view> key) {
  if (bytes.size() > options_.max_record_bytes) {
    return Refuse(Refusal::kTooLarge, "record of " + std::to_string(bytes.size()) + " bytes (limit " +
                                          std::to_string(options_.max_record_bytes) + ")");
  }
  v1::Input in;
  if (format == Format::kJson) {
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = false;
    auto st = google::protobuf::util::JsonStringToMessage(std::string(bytes), &in, opts);
    if (!st.ok()) return Refuse(Refusal::kUnparseable, "not a leadscore.v1.Input in JSON: " + std::string(st.message()));
    if (const std::string twice = DuplicateKey(bytes); !twice.empty()) {
      return Refuse(Refusal::kUnparseable, "not a leadscore.v1.Input in JSON: key '" +
                                               Checker::Printable(twice.substr(0, 64)) + "' given twice");
    }
  } else if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Refuse(Refusal::kUnparseable, "not a leadscore.v1.Input in protobuf binary (" + std::to_string(bytes.size()) +
                                   " bytes)");
  }
  const Checker check(options_, key);
  // A profile moves stream time as an event does (SPEC section 3), so its time is held
  // to the same bounds ahead. An old or unset one (0) is fine: it only loses to newer.
  auto profile_time = [&](int64_t at, const char* what) -> Status {
    if (at > options_.latest_event_time_ms) {
      return Refuse(Refusal::kBadTime, std::string(what) + " " + std::to_string(at) + " is after 2100-01-01");
    }
    if (options_.max_event_time_ms && at > *options_.max_event_time_ms) {
      return Refuse(Refusal::kBadTime, std::string(what) + " " + std::to_string(at) +
                                     " is more than max_future_skew ahead of the clock");
    }
    return Status::Ok();
  };
  switch (in.body_case()) {
    case v1::Input::kEvent: {
      const v1::EngagementEvent& e = in.event();
      LEADSCORE_RETURN_IF_ERROR(check.Id(e.event_id(), "event.event_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Id(e.lead_id(), "event.lead_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Id(e.account_id(), "event.account_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Id(e.type(), "event.type"));
      if (e.occurred_at_ms() == 0) return Refuse(Refusal::kMissingField, "missing required field event.occurred_at_ms");
      if (e.occurred_at_ms() < options_.min_event_time_ms) {
        return Refuse(Refusal::kBadTime, "event.occurred_at_ms " + std::to_string(e.occurred_at_ms()) +
                                       " is before 2000-01-01");
      }
      if (e.occurred_at_ms() > options_.latest_event_time_ms) {
        return Refuse(Refusal::kBadTime, "event.occurred_at_ms " + std::to_string(e.occurred_at_ms()) +
                                       " is after 2100-01-01");
      }
      if (options_.max_event_time_ms && e.occurred_at_ms() > *options_.max_event_time_ms) {
        return Refuse(Refusal::kBadTime, "event.occurred_at_ms " + std::to_string(e.occurred_at_ms()) +
                                       " is more than max_future_skew ahead of the clock");
      }
      LEADSCORE_RETURN_IF_ERROR(check.Key(e.account_id()));
      LEADSCORE_RETURN_IF_ERROR(check.Attributes(e.attributes(), "event.attributes"));
      engine::EventInput out;
      out.event_key = Hash64(e.event_id());
      out.lead = leads_.Intern(e.lead_id());
      out.account = accounts_.Intern(e.account_id());
      auto sig = model_.SignalIndex(e.type());
      out.signal = sig ? *sig : engine::kUnknownSignal;
      out.occurred_at_ms = e.occurred_at_ms();
      if (model_.layout.event_slots() > 0) {
        out.attributes.resize(model_.layout.event_slots());
        FillAttributes(model_, model_.layout.event_attributes, e.attributes(), out.attributes.data());
      }
      return engine::Input(std::move(out));
    }
    case v1::Input::kLead: {
      const v1::LeadProfile& p = in.lead();
      LEADSCORE_RETURN_IF_ERROR(check.Id(p.lead_id(), "lead.lead_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Id(p.account_id(), "lead.account_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Key(p.account_id()));
      LEADSCORE_RETURN_IF_ERROR(profile_time(p.updated_at_ms(), "lead.updated_at_ms"));
      LEADSCORE_RETURN_IF_ERROR(check.Attributes(p.attributes(), "lead.attributes"));
      engine::LeadProfileInput out;
      out.lead = leads_.Intern(p.lead_id());
      out.account = accounts_.Intern(p.account_id());
      out.updated_at_ms = p.updated_at_ms();
      // The whole profile is kept with the state (a later model may read any field);
      // this model's slots are read from it, the one way they are ever derived.
      model::WholeProfileWriter whole;
      whole.Text(model::kLeadRole, p.role());
      whole.Text(model::kLeadSeniority, p.seniority());
      whole.Text(model::kLeadTitle, p.title());
      whole.Text(model::kLeadCountry, p.country());
      whole.Text(model::kLeadEmailDomain, p.email_domain());
      AddAttributes(p.attributes(), whole);
      out.whole = whole.Take();
      model::LeadSlotsOf(model_, out.whole, &out.fields);
      return engine::Input(std::move(out));
    }
    case v1::Input::kAccount: {
      const v1::AccountProfile& p = in.account();
      LEADSCORE_RETURN_IF_ERROR(check.Id(p.account_id(), "account.account_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Key(p.account_id()));
      LEADSCORE_RETURN_IF_ERROR(profile_time(p.updated_at_ms(), "account.updated_at_ms"));
      LEADSCORE_RETURN_IF_ERROR(check.Attributes(p.attributes(), "account.attributes"));
      engine::AccountProfileInput out;
      out.account = accounts_.Intern(p.account_id());
      out.updated_at_ms = p.updated_at_ms();
      model::WholeProfileWriter whole;
      whole.Text(model::kAccountName, p.name());
      whole.Text(model::kAccountIndustry, p.industry());
      whole.Number(model::kAccountEmployeeCount, static_cast<double>(p.employee_count()));
      whole.Number(model::kAccountAnnualRevenue, p.annual_revenue());
      whole.Text(model::kAccountCountry, p.country());
      whole.Text(model::kAccountMarket, p.market());
      AddAttributes(p.attributes(), whole);
      out.whole = whole.Take();
      model::AccountSlotsOf(model_, out.whole, &out.fields);
      return engine::Input(std::move(out));
    }
    case v1::Input::kOutcome: {
      const v1::SalesOutcome& o = in.outcome();
      LEADSCORE_RETURN_IF_ERROR(check.Id(o.account_id(), "outcome.account_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Key(o.account_id()));
      LEADSCORE_RETURN_IF_ERROR(check.OptionalId(o.lead_id(), "outcome.lead_id"));
      LEADSCORE_RETURN_IF_ERROR(check.OptionalId(o.routing_id(), "outcome.routing_id"));
      if (o.kind() == v1::SalesOutcome::KIND_UNSPECIFIED) return Refuse(Refusal::kMissingField, "missing required field outcome.kind");
      engine::OutcomeInput out;
      out.routing_id = o.routing_id();
      // Interned, not only looked up: an outcome may suppress or score an entity the
      // service has evicted, which must then be loaded (store::LoadFor). An id that names
      // nothing is released again at the next eviction.
      out.lead = o.lead_id().empty() ? engine::kNoEntity : leads_.Intern(o.lead_id());
      out.account = accounts_.Intern(o.account_id());
      out.kind = static_cast<engine::OutcomeKind>(o.kind());
      out.amount = o.amount();
      out.occurred_at_ms = o.occurred_at_ms();
      return engine::Input(std::move(out));
    }
    case v1::Input::kForget: {
      const v1::Forget& f = in.forget();
      LEADSCORE_RETURN_IF_ERROR(check.Id(f.account_id(), "forget.account_id"));
      LEADSCORE_RETURN_IF_ERROR(check.Key(f.account_id()));
      LEADSCORE_RETURN_IF_ERROR(check.OptionalId(f.lead_id(), "forget.lead_id"));
      // Interned, not looked up: an entity evicted from memory (its id released) is
      // loaded from the store before the Forget applies, and a lead held on another
      // partition is reached by relaying the Forget there. Forgetting what was never
      // seen changes nothing.
      engine::ForgetInput out;
      if (!f.lead_id().empty()) {
        out.lead = leads_.Intern(f.lead_id());
      } else {
        out.account = accounts_.Intern(f.account_id());
      }
      return engine::Input(std::move(out));
    }
    case v1::Input::BODY_NOT_SET:
      break;
  }
  return Refuse(Refusal::kEmpty, "empty Input: none of event, lead, account, outcome, forget is set");
}

Result<std::optional<WireOutcome>> DecodeOutcome(std::string_view bytes, Format format) {
  v1::Input in;
  if (format == Format::kJson) {
    google::protobuf::util::JsonParseOptions opts;
    auto st = google::protobuf::util::JsonStringToMessage(std::string(bytes), &in, opts);
    if (!st.ok()) return Refuse(Refusal::kUnparseable, "not a leadscore.v1.Input in JSON: " + std::string(st.message()));
  } else if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Refuse(Refusal::kUnparseable, "not a leadscore.v1.Input in protobuf binary");
  }
  if (in.body_case() != v1::Input::kOutcome) return std::optional<WireOutcome>();
  const v1::SalesOutcome& o = in.outcome();
  if (o.account_id().empty()) return Refuse(Refusal::kMissingField, "missing required field outcome.account_id");
  if (o.kind() == v1::SalesOutcome::KIND_UNSPECIFIED) {
    return Refuse(Refusal::kMissingField, "missing required field outcome.kind");
  }
  WireOutcome w;
  w.routing_id = o.routing_id();
  w.lead_id = o.lead_id();
  w.account_id = o.account_id();
  w.kind = static_cast<WireOutcomeKind>(o.kind());
  w.reason = o.reason();
  w.amount = o.amount();
  w.occurred_at_ms = o.occurred_at_ms();
  return std::optional<WireOutcome>(std::move(w));
}

std::string_view RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kUnparseable: return "unparseable";
    case Refusal::kMissingField: return "missing_field";
    case Refusal::kKeyMismatch: return "key_mismatch";
    case Refusal::kBadTime: return "bad_time";
    case Refusal::kTooLarge: return "too_large";
    case Refusal::kEmpty: return "empty";
    case Refusal::kBadId: return "bad_id";
  }
  return "invalid";
}

namespace {

void ToProto(const engine::RoutingEvent& ev, v1::RoutingEvent* p) {
  p->set_routing_id(ev.routing_id);
  p->set_entity(ev.entity == engine::EntityKind::kLead ? v1::RoutingEvent::LEAD : v1::RoutingEvent::ACCOUNT);
  p->set_lead_id(ev.lead_id);
  p->set_account_id(ev.account_id);
  p->set_from_tier(ev.from_tier);
  p->set_to_tier(ev.to_tier);
  p->set_direction(ev.direction == engine::Direction::kUp ? v1::RoutingEvent::UP : v1::RoutingEvent::DOWN);
  p->set_fit(ev.fit);
  p->set_intent(ev.intent);
  p->set_score(ev.score);
  p->set_grade(ev.grade);
  for (const auto& f : ev.factors) {
    v1::Factor* pf = p->add_factors();
    pf->set_name(f.name);
    pf->set_points(f.points);
    pf->set_count(f.count);
    pf->set_last_at_ms(f.last_at_ms);
  }
  for (const auto& r : ev.committee_roles) p->add_committee_roles(r);
  p->set_engaged_contacts(ev.engaged_contacts);
  p->set_model_version(ev.model_version);
  p->set_occurred_at_ms(ev.occurred_at_ms);
  p->set_sla_due_at_ms(ev.sla_due_at_ms);
  p->set_action(ev.action);
  p->set_feedback(ev.feedback);
  p->set_reason(ev.reason);
}

engine::RoutingEvent FromProto(const v1::RoutingEvent& p) {
  engine::RoutingEvent ev;
  ev.routing_id = p.routing_id();
  ev.entity = p.entity() == v1::RoutingEvent::ACCOUNT ? engine::EntityKind::kAccount : engine::EntityKind::kLead;
  ev.lead_id = p.lead_id();
  ev.account_id = p.account_id();
  ev.from_tier = p.from_tier();
  ev.to_tier = p.to_tier();
  ev.direction = p.direction() == v1::RoutingEvent::DOWN ? engine::Direction::kDown : engine::Direction::kUp;
  ev.fit = p.fit();
  ev.intent = p.intent();
  ev.score = p.score();
  ev.grade = p.grade();
  for (const auto& f : p.factors()) ev.factors.push_back({f.name(), f.points(), f.count(), f.last_at_ms()});
  for (const auto& r : p.committee_roles()) ev.committee_roles.push_back(r);
  ev.engaged_contacts = p.engaged_contacts();
  ev.model_version = p.model_version();
  ev.occurred_at_ms = p.occurred_at_ms();
  ev.sla_due_at_ms = p.sla_due_at_ms();
  ev.action = p.action();
  ev.feedback = p.feedback();
  ev.reason = p.reason();
  return ev;
}

}  // namespace

std::string ToJson(const engine::RoutingEvent& ev) {
  v1::RoutingEvent p;
  ToProto(ev, &p);
  return PrintAllFieldsJson(p);
}

std::string ToBinary(const engine::RoutingEvent& ev) {
  v1::RoutingEvent p;
  ToProto(ev, &p);
  return p.SerializeAsString();
}

Result<engine::RoutingEvent> RoutingEventFromJson(std::string_view json) {
  v1::RoutingEvent p;
  auto st = google::protobuf::util::JsonStringToMessage(std::string(json), &p);
  if (!st.ok()) return Status::InvalidArgument("not a RoutingEvent: " + std::string(st.message()));
  return FromProto(p);
}

Result<engine::RoutingEvent> RoutingEventFromBinary(std::string_view bytes) {
  v1::RoutingEvent p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::InvalidArgument("not a RoutingEvent in protobuf binary");
  }
  return FromProto(p);
}

namespace {

std::string Serialize(const v1::Input& in, bool has_map_entries, Format format) {
  std::string out;
  if (format == Format::kJson) {
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(in, &out, opts);
    return out;
  }
  // Deterministic: map entries in key order, so equal records give equal bytes. Without
  // map entries the plain (faster) serialization is already so.
  if (!has_map_entries) return in.SerializeAsString();
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  in.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

template <typename ProtoMap>
void CopyAttributes(const std::map<std::string, std::string>& from, ProtoMap* to) {
  for (const auto& [k, v] : from) (*to)[k] = v;
}

}  // namespace

std::string EncodeInput(const WireEvent& e, Format format) {
  v1::Input in;
  auto* p = in.mutable_event();
  p->set_event_id(e.event_id);
  p->set_lead_id(e.lead_id);
  p->set_account_id(e.account_id);
  p->set_type(e.type);
  p->set_occurred_at_ms(e.occurred_at_ms);
  CopyAttributes(e.attributes, p->mutable_attributes());
  return Serialize(in, !e.attributes.empty(), format);
}

std::string EncodeInput(const WireLeadProfile& l, Format format) {
  v1::Input in;
  auto* p = in.mutable_lead();
  p->set_lead_id(l.lead_id);
  p->set_account_id(l.account_id);
  p->set_role(l.role);
  p->set_seniority(l.seniority);
  p->set_title(l.title);
  p->set_country(l.country);
  p->set_email_domain(l.email_domain);
  p->set_updated_at_ms(l.updated_at_ms);
  CopyAttributes(l.attributes, p->mutable_attributes());
  return Serialize(in, !l.attributes.empty(), format);
}

std::string EncodeInput(const WireAccountProfile& a, Format format) {
  v1::Input in;
  auto* p = in.mutable_account();
  p->set_account_id(a.account_id);
  p->set_name(a.name);
  p->set_industry(a.industry);
  p->set_employee_count(a.employee_count);
  p->set_annual_revenue(a.annual_revenue);
  p->set_country(a.country);
  p->set_market(a.market);
  p->set_updated_at_ms(a.updated_at_ms);
  CopyAttributes(a.attributes, p->mutable_attributes());
  return Serialize(in, !a.attributes.empty(), format);
}

std::string EncodeInput(const WireOutcome& o, Format format) {
  v1::Input in;
  auto* p = in.mutable_outcome();
  p->set_routing_id(o.routing_id);
  p->set_lead_id(o.lead_id);
  p->set_account_id(o.account_id);
  p->set_kind(static_cast<v1::SalesOutcome::Kind>(o.kind));
  p->set_reason(o.reason);
  p->set_amount(o.amount);
  p->set_occurred_at_ms(o.occurred_at_ms);
  return Serialize(in, false, format);
}

}  // namespace leadscore::codec
