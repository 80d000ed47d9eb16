// Decoding: every class of unusable record is refused with a readable reason (the
// service sends those to the dead-letter topic); good records become engine inputs.
#include "codec/codec.h"

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/harness.h"
#include "leadscore/v1/leadscore.pb.h"

namespace leadscore::testing {
namespace {

using ::testing::HasSubstr;

class CodecTest : public ::testing::Test {
 protected:
  CodecTest() : model_(MustLoad(kTestModel)), decoder_(*model_, leads_, accounts_) {}

  std::string Refused(std::string_view bytes, codec::Format f, std::optional<std::string_view> key = std::nullopt) {
    auto r = decoder_.Decode(bytes, f, key);
    EXPECT_FALSE(r.ok()) << "accepted";
    return r.ok() ? "" : r.status().message();
  }

  codec::Refusal ReasonOf(std::string_view bytes, codec::Format f, std::optional<std::string_view> key = std::nullopt) {
    auto r = decoder_.Decode(bytes, f, key);
    EXPECT_FALSE(r.ok()) << "accepted";
    return r.status().reason<codec::Refusal>();
  }

  static std::string Event(const std::string& fields) { return R"({"event":{)" + fields + "}}"; }
  static constexpr const char* kGood =
      R"("event_id":"e1","lead_id":"l1","account_id":"a1","type":"view","occurred_at_ms":"1790000000000")";

  std::shared_ptr<const model::Model> model_;
  engine::IdTable leads_, accounts_;
  codec::Decoder decoder_;
};

TEST_F(CodecTest, DecodesAGoodEventFromJsonAndBinary) {
  auto r = decoder_.Decode(Event(kGood), codec::Format::kJson, "a1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& e = std::get<engine::EventInput>(*r);
  EXPECT_EQ(leads_.Name(e.lead), "l1");
  EXPECT_EQ(accounts_.Name(e.account), "a1");
  EXPECT_EQ(e.signal, 0);
  EXPECT_EQ(e.occurred_at_ms, 1790000000000);

  v1::Input in;
  in.mutable_event()->set_event_id("e1");
  in.mutable_event()->set_lead_id("l1");
  in.mutable_event()->set_account_id("a1");
  in.mutable_event()->set_type("demo");
  in.mutable_event()->set_occurred_at_ms(1790000000000);
  (*in.mutable_event()->mutable_attributes())["region"] = "emea";
  auto b = decoder_.Decode(in.SerializeAsString(), codec::Format::kProtobuf, "a1");
  ASSERT_TRUE(b.ok()) << b.status().message();
  const auto& be = std::get<engine::EventInput>(*b);
  EXPECT_EQ(be.signal, 1);
  ASSERT_EQ(be.attributes.size(), 1u) << "the model reads one event attribute";
  EXPECT_TRUE(be.attributes[0].present);
  EXPECT_EQ(be.event_key, std::get<engine::EventInput>(*r).event_key) << "same event_id, same dedupe key";
}

TEST_F(CodecTest, AcceptsTheProtoFieldNamesAndTheCamelCaseOnes) {
  EXPECT_TRUE(decoder_.Decode(
                  R"({"event":{"eventId":"e1","leadId":"l1","accountId":"a1","type":"view","occurredAtMs":1790000000000}})",
                  codec::Format::kJson)
                  .ok());
}

TEST_F(CodecTest, UnknownSignalIsNotAnErrorButMarked) {
  auto r = decoder_.Decode(Event(R"("event_id":"e","lead_id":"l","account_id":"a","type":"nope","occurred_at_ms":"1790000000000")"),
                           codec::Format::kJson);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<engine::EventInput>(*r).signal, engine::kUnknownSignal);
}

TEST_F(CodecTest, RefusesBytesThatAreNotProtobuf) {
  EXPECT_THAT(Refused("\xff\xff\xff\xff garbage", codec::Format::kProtobuf), HasSubstr("not a leadscore.v1.Input"));
}

TEST_F(CodecTest, RefusesTruncatedProtobuf) {
  v1::Input in;
  in.mutable_event()->set_event_id("an-event-id-long-enough");
  std::string bytes = in.SerializeAsString();
  EXPECT_THAT(Refused(bytes.substr(0, bytes.size() - 5), codec::Format::kProtobuf), HasSubstr("protobuf binary"));
}

TEST_F(CodecTest, RefusesJsonThatIsNotAnInput) {
  EXPECT_THAT(Refused("{\"hello\":1}", codec::Format::kJson), HasSubstr("not a leadscore.v1.Input in JSON"));
  EXPECT_THAT(Refused("not json at all", codec::Format::kJson), HasSubstr("JSON"));
  EXPECT_THAT(Refused("{}", codec::Format::kJson), HasSubstr("empty Input"));
}

TEST_F(CodecTest, RefusesMissingRequiredFields) {
  EXPECT_THAT(Refused(Event(R"("lead_id":"l","account_id":"a","type":"view","occurred_at_ms":"1790000000000")"),
                      codec::Format::kJson),
              HasSubstr("missing required field event.event_id"));
  EXPECT_THAT(Refused(Event(R"("event_id":"e","account_id":"a","type":"view","occurred_at_ms":"1790000000000")"),
                      codec::Format::kJson),
              HasSubstr("event.lead_id"));
  EXPECT_THAT(Refused(Event(R"("event_id":"e","lead_id":"l","account_id":"a","type":"view")"), codec::Format::kJson),
              HasSubstr("event.occurred_at_ms"));
  EXPECT_THAT(Refused(R"({"lead":{"lead_id":"l"}})", codec::Format::kJson), HasSubstr("lead.account_id"));
  EXPECT_THAT(Refused(R"({"outcome":{"account_id":"a"}})", codec::Format::kJson), HasSubstr("outcome.kind"));
}

TEST_F(CodecTest, RefusesARecordKeyedByAnotherAccount) {
  EXPECT_THAT(Refused(Event(kGood), codec::Format::kJson, "a2"), HasSubstr("Kafka key 'a2' differs from account_id 'a1'"));
}

TEST_F(CodecTest, RefusesEventTimesBefore2000AndTooFarAhead) {
  EXPECT_THAT(Refused(Event(R"("event_id":"e","lead_id":"l","account_id":"a","type":"view","occurred_at_ms":"5")"),
                      codec::Format::kJson),
              HasSubstr("before 2000"));
  EXPECT_THAT(Refused(Event(R"("event_id":"e","lead_id":"l","account_id":"a","type":"view","occurred_at_ms":"9223372036854775807")"),
                      codec::Format::kJson),
              HasSubstr("after 2100"));
  decoder_.options().max_event_time_ms = 1790000000000 - 1;
  EXPECT_THAT(Refused(Event(kGood), codec::Format::kJson), HasSubstr("max_future_skew"));
}

// Profiles move stream time too (SPEC section 3), so they are held to the same bounds
// ahead; an old or unset time only loses to a newer profile.
TEST_F(CodecTest, RefusesProfileTimesTooFarAheadNotOldOnes) {
  const std::string lead = R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"1790000000000"}})";
  const std::string account = R"({"account":{"account_id":"a1","updated_at_ms":"1790000000000"}})";
  EXPECT_TRUE(decoder_.Decode(R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"1"}})", codec::Format::kJson).ok());
  EXPECT_TRUE(decoder_.Decode(R"({"account":{"account_id":"a1"}})", codec::Format::kJson).ok());
  EXPECT_THAT(Refused(R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"9223372036854775807"}})",
                      codec::Format::kJson),
              HasSubstr("lead.updated_at_ms 9223372036854775807 is after 2100"));
  EXPECT_TRUE(decoder_.Decode(lead, codec::Format::kJson).ok());
  decoder_.options().max_event_time_ms = 1790000000000 - 1;
  EXPECT_THAT(Refused(lead, codec::Format::kJson), HasSubstr("max_future_skew"));
  EXPECT_EQ(ReasonOf(account, codec::Format::kJson), codec::Refusal::kBadTime);
}

// The dead-letter metric and header take the reason from the value, never from the text.
TEST_F(CodecTest, EveryRefusalCarriesItsReasonAsAValue) {
  using codec::Refusal;
  EXPECT_EQ(ReasonOf("\xff\xff garbage", codec::Format::kProtobuf), Refusal::kUnparseable);
  EXPECT_EQ(ReasonOf("not json", codec::Format::kJson), Refusal::kUnparseable);
  EXPECT_EQ(ReasonOf("{}", codec::Format::kJson), Refusal::kEmpty);
  EXPECT_EQ(ReasonOf(R"({"lead":{"lead_id":"l"}})", codec::Format::kJson), Refusal::kMissingField);
  EXPECT_EQ(ReasonOf(Event(kGood), codec::Format::kJson, "a2"), Refusal::kKeyMismatch);
  EXPECT_EQ(ReasonOf(Event(R"("event_id":"e","lead_id":"l","account_id":"a","type":"view","occurred_at_ms":"5")"),
                     codec::Format::kJson),
            Refusal::kBadTime);
  EXPECT_EQ(ReasonOf(Event(R"("event_id":")" + std::string(300, 'e') +
                           R"(","lead_id":"l","account_id":"a","type":"view","occurred_at_ms":"1790000000000")"),
                     codec::Format::kJson),
            Refusal::kTooLarge);
  decoder_.options().max_event_time_ms = 1790000000000 - 1;
  EXPECT_EQ(ReasonOf(Event(kGood), codec::Format::kJson), Refusal::kBadTime);
  for (Refusal r : codec::kAllRefusals) EXPECT_FALSE(codec::RefusalName(r).empty());
  EXPECT_EQ(codec::RefusalName(Refusal::kKeyMismatch), "key_mismatch");
}

TEST_F(CodecTest, RefusesHugeAttributeMaps) {
  v1::Input in;
  auto* e = in.mutable_event();
  e->set_event_id("e");
  e->set_lead_id("l");
  e->set_account_id("a");
  e->set_type("view");
  e->set_occurred_at_ms(1790000000000);
  for (int i = 0; i < 10000; ++i) (*e->mutable_attributes())["k" + std::to_string(i)] = "v";
  EXPECT_THAT(Refused(in.SerializeAsString(), codec::Format::kProtobuf), HasSubstr("10000 entries"));
  e->mutable_attributes()->clear();
  (*e->mutable_attributes())["big"] = std::string(1 << 20, 'x');
  EXPECT_THAT(Refused(in.SerializeAsString(), codec::Format::kProtobuf), HasSubstr("bytes (limit"));
}

// A binary event record whose lead id is `lead`, the rest of it valid.
std::string EventWithLead(const std::string& lead) {
  v1::Input in;
  in.mutable_event()->set_event_id("e");
  in.mutable_event()->set_lead_id(lead);
  in.mutable_event()->set_account_id("a");
  in.mutable_event()->set_type("view");
  in.mutable_event()->set_occurred_at_ms(1790000000000);
  return in.SerializeAsString();
}

TEST_F(CodecTest, IdsArePrintableUtf8OrTheRecordIsRefused) {
  EXPECT_TRUE(decoder_.Decode(EventWithLead("ana.müller@例え.jp"), codec::Format::kProtobuf).ok());
  // Control characters (C0, DEL, C1) in valid UTF-8: bad_id.
  for (const std::string odd : {std::string("a\x01b"), std::string("a\x7f"), std::string("nul\0id", 6),
                                std::string("\xc2\x85")}) {
    EXPECT_EQ(ReasonOf(EventWithLead(odd), codec::Format::kProtobuf), codec::Refusal::kBadId) << odd;
  }
  // Not UTF-8 at all: protobuf's parser refuses the string field already.
  for (const std::string odd : {std::string("\xff\xfe"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                                std::string("cut\xe2\x82")}) {
    EXPECT_FALSE(decoder_.Decode(EventWithLead(odd), codec::Format::kProtobuf).ok()) << odd;
  }
  EXPECT_THAT(Refused(EventWithLead("a\x01\x7f"), codec::Format::kProtobuf),
              HasSubstr("event.lead_id 'a??' is not printable UTF-8"));
  EXPECT_EQ(ReasonOf(R"({"forget":{"account_id":"a","lead_id":"l\u0007"}})", codec::Format::kJson),
            codec::Refusal::kBadId);
  EXPECT_THAT(Refused(EventWithLead(std::string(300, 'x')), codec::Format::kProtobuf),
              HasSubstr("longer than 256 bytes"));
}

// Ids of printable ASCII are checked eight bytes at a time, the rest byte by byte: each
// ASCII byte, and a printable and a control character of two bytes, at every place of
// ids that fill words and leave a tail.
TEST_F(CodecTest, EveryByteAtEveryPlaceOfALongIdIsCheckedAlike) {
  auto decode_lead = [&](const std::string& lead) {
    return decoder_.Decode(EventWithLead(lead), codec::Format::kProtobuf);
  };
  for (const size_t length : {8, 16, 19}) {
    for (size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 0x80; ++byte) {
        std::string id(length, 'x');
        id[at] = static_cast<char>(byte);
        auto r = decode_lead(id);
        const bool printable = byte >= 0x20 && byte < 0x7f;
        ASSERT_EQ(r.ok(), printable) << "byte " << byte << " at " << at << " of " << length;
        if (!printable) {
          ASSERT_EQ(r.status().reason<codec::Refusal>(), codec::Refusal::kBadId);
        }
      }
      if (at + 1 < length) {
        std::string id(length, 'x');
        EXPECT_TRUE(decode_lead(id.replace(at, 2, "\xc3\xa9")).ok()) << at;  // é
        id.assign(length, 'x');
        EXPECT_EQ(decode_lead(id.replace(at, 2, "\xc2\x85")).status().reason<codec::Refusal>(),  // NEL, C1
                  codec::Refusal::kBadId)
            << at;
      }
    }
  }
}

TEST_F(CodecTest, JsonWithAKeyTwiceIsRefused) {
  EXPECT_THAT(Refused(R"({"event":{"event_id":"e1","event_id":"e2","lead_id":"l","account_id":"a","type":"view","occurred_at_ms":"1790000000000"}})",
                      codec::Format::kJson),
              HasSubstr("key 'event_id' given twice"));
  EXPECT_EQ(ReasonOf(R"({"account":{"account_id":"a","updated_at_ms":"1","attributes":{"x":"1","x":"2"}}})",
                     codec::Format::kJson),
            codec::Refusal::kUnparseable);
  EXPECT_TRUE(decoder_.Decode(R"({"account":{"account_id":"a","updated_at_ms":"1","attributes":{"x":"1"}},"z":{}})",
                              codec::Format::kJson).ok() == false) << "unknown fields stay refused";
  EXPECT_TRUE(decoder_.Decode(R"({"account":{"account_id":"a","updated_at_ms":"1","attributes":{"x":{"y":1}}}})",
                              codec::Format::kJson).ok() == false);
}

// Random and mutated records: every one is either decoded or refused with a reason,
// and whatever decodes can be scored. Nothing crashes (run under ASan in CI builds).
TEST_F(CodecTest, RandomAndMutatedBytesNeverCrash) {
  engine::Engine eng(model_);
  codec::Decoder decoder(*model_, eng.lead_ids(), eng.account_ids());
  v1::Input in;
  auto* e = in.mutable_event();
  e->set_event_id("e1");
  e->set_lead_id("l1");
  e->set_account_id("a1");
  e->set_type("view");
  e->set_occurred_at_ms(1790000000000);
  (*e->mutable_attributes())["region"] = "emea";
  const std::string good_bin = in.SerializeAsString();
  const std::string good_json = std::string(R"({"event":{)") + kGood + R"(,"attributes":{"region":"emea"}}})";
  std::mt19937_64 rng(2026);
  std::vector<engine::RoutingEvent> out;
  size_t decoded = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    const bool json = i % 2;
    std::string bytes = json ? good_json : good_bin;
    switch (rng() % 3) {
      case 0:  // flip bytes
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        break;
      case 1:  // truncate
        bytes.resize(rng() % bytes.size());
        break;
      default:  // pure noise
        bytes.resize(rng() % 64);
        for (auto& c : bytes) c = static_cast<char>(rng());
    }
    auto r = decoder.Decode(bytes, json ? codec::Format::kJson : codec::Format::kProtobuf,
                            rng() % 2 ? std::optional<std::string_view>("a1") : std::nullopt);
    if (r.ok()) {
      ++decoded;
      eng.Apply(*r, &out);
    } else {
      ++refused;
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_GT(decoded, 0u);
  EXPECT_GT(refused, 0u);
}

// The wire structs' encoders: the bytes are the leadscore.v1.Input of those fields, and
// both formats decode to the same engine input.
TEST_F(CodecTest, EncodedWireRecordsAreTheInputOfTheirFieldsInBothFormats) {
  const codec::WireEvent ev{.event_id = "e1", .lead_id = "l1", .account_id = "a1", .type = "view",
                            .occurred_at_ms = 1790000000000, .attributes = {{"region", "emea"}, {"z", "1"}}};
  v1::Input in;
  ASSERT_TRUE(in.ParseFromString(codec::EncodeInput(ev, codec::Format::kProtobuf)));
  EXPECT_EQ(in.event().lead_id(), "l1");
  EXPECT_EQ(in.event().occurred_at_ms(), 1790000000000);
  EXPECT_EQ(in.event().attributes().at("region"), "emea");
  EXPECT_EQ(codec::EncodeInput(ev, codec::Format::kProtobuf), codec::EncodeInput(ev, codec::Format::kProtobuf));
  const std::string json = codec::EncodeInput(ev, codec::Format::kJson);
  EXPECT_THAT(json, HasSubstr(R"("event_id":"e1")")) << "proto field names";
  auto b = decoder_.Decode(codec::EncodeInput(ev, codec::Format::kProtobuf), codec::Format::kProtobuf, "a1");
  auto j = decoder_.Decode(json, codec::Format::kJson, "a1");
  ASSERT_TRUE(b.ok() && j.ok()) << json;
  const auto& be = std::get<engine::EventInput>(*b);
  const auto& je = std::get<engine::EventInput>(*j);
  EXPECT_EQ(be.event_key, je.event_key);
  EXPECT_EQ(be.lead, je.lead);
  EXPECT_EQ(be.occurred_at_ms, je.occurred_at_ms);
  ASSERT_EQ(be.attributes.size(), 1u);
  EXPECT_TRUE(be.attributes[0].present && je.attributes[0].present);

  const codec::WireLeadProfile lead{.lead_id = "l1", .account_id = "a1", .role = "user", .seniority = "vp",
                                    .title = "CTO", .country = "NL", .email_domain = "corp.example",
                                    .updated_at_ms = 5};
  ASSERT_TRUE(in.ParseFromString(codec::EncodeInput(lead, codec::Format::kProtobuf)));
  EXPECT_EQ(in.lead().seniority(), "vp");
  EXPECT_EQ(in.lead().email_domain(), "corp.example");
  EXPECT_EQ(in.lead().updated_at_ms(), 5);
  for (auto f : {codec::Format::kProtobuf, codec::Format::kJson}) {
    auto r = decoder_.Decode(codec::EncodeInput(lead, f), f, "a1");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(leads_.Name(std::get<engine::LeadProfileInput>(*r).lead), "l1");
  }

  const codec::WireAccountProfile account{.account_id = "a1", .name = "Acme", .industry = "software",
                                          .employee_count = 250, .annual_revenue = 1.5e7, .country = "NL",
                                          .market = "Benelux", .updated_at_ms = 5};
  ASSERT_TRUE(in.ParseFromString(codec::EncodeInput(account, codec::Format::kProtobuf)));
  EXPECT_EQ(in.account().employee_count(), 250);
  EXPECT_EQ(in.account().annual_revenue(), 1.5e7);
  EXPECT_EQ(in.account().market(), "Benelux");
  for (auto f : {codec::Format::kProtobuf, codec::Format::kJson}) {
    auto r = decoder_.Decode(codec::EncodeInput(account, f), f, "a1");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(std::get<engine::AccountProfileInput>(*r).fields[model::kAccountEmployeeCount].number, 250);
  }
}

TEST(RoutingEventCodecTest, JsonUsesProtoNamesAndPrintsZeros) {
  engine::RoutingEvent ev;
  ev.routing_id = "r1";
  ev.entity = engine::EntityKind::kAccount;
  ev.account_id = "a1";
  ev.from_tier = "C";
  ev.to_tier = "A";
  ev.direction = engine::Direction::kUp;
  ev.score = 81.5;
  ev.factors.push_back({"pricing_page_view", 41.25, 3, 1790000000000});
  ev.committee_roles = {"champion"};
  ev.occurred_at_ms = 1790000000000;
  const std::string json = codec::ToJson(ev);
  EXPECT_THAT(json, HasSubstr(R"("routing_id":"r1")"));
  EXPECT_THAT(json, HasSubstr(R"("entity":"ACCOUNT")"));
  EXPECT_THAT(json, HasSubstr(R"("direction":"UP")"));
  EXPECT_THAT(json, HasSubstr(R"("sla_due_at_ms":"0")"));
  EXPECT_THAT(json, HasSubstr(R"("committee_roles":["champion"])"));
  auto back = codec::RoutingEventFromJson(json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->to_tier, "A");
  EXPECT_EQ(back->factors[0].count, 3);
  auto bin = codec::RoutingEventFromBinary(codec::ToBinary(ev));
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(bin->score, 81.5);
  EXPECT_EQ(bin->entity, engine::EntityKind::kAccount);
}

}  // namespace
}  // namespace leadscore::testing
