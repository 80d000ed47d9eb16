// `leadscore export` against the embedded broker: the example story produced as
// protobuf, exported to JSON lines and replayed gives the same routing events, ids
// included, as replaying the story itself; routing events and dead letters (with their
// headers) come out as JSON lines too.
#include "cli/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/replay.h"
#include "codec/codec.h"
#include "model/model.h"
#include "stream/embedded_broker.h"

namespace leadscore::cli {
namespace {

using ::testing::HasSubstr;

const std::string kDir = LEADSCORE_SOURCE_DIR;
constexpr int64_t kStoryEnd = 1791190800000 + 70LL * 86400000;  // ten weeks after the story starts

// A producer that sets what the service's records carry: key, timestamp, headers.
class Producer {
 public:
  explicit Producer(const std::string& bootstrap) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    EXPECT_NE(rk_, nullptr) << err;
  }
  ~Producer() { rd_kafka_destroy(rk_); }
  void Send(const std::string& topic, const std::string& key, const std::string& value, int64_t timestamp_ms,
            const std::map<std::string, std::string>& headers = {}) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [k, v] : headers) rd_kafka_header_add(hdrs, k.data(), k.size(), v.data(), v.size());
    auto e = rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_HEADERS(hdrs),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
  }
  void Flush() { ASSERT_EQ(rd_kafka_flush(rk_, 30000), RD_KAFKA_RESP_ERR_NO_ERROR); }

 private:
  rd_kafka_t* rk_ = nullptr;
};

std::string AccountOf(const std::string& json_line) {
  const auto j = nlohmann::json::parse(json_line);
  return j.begin().value().value("account_id", "");
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string ReplayOf(const std::string& jsonl) {
  auto model = model::LoadModelFromFile(kDir + "/examples/model.yaml");
  EXPECT_TRUE(model.ok());
  std::istringstream in(jsonl);
  std::ostringstream out, err;
  ReplayOptions options;
  options.until_ms = kStoryEnd;
  Replay(model.model, in, out, err, options);
  return out.str();
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = stream::EmbeddedBroker::Start({.partitions = 3, .topics = {"engagement-events", "routing-events", "leadscore-dlq"}});
    ASSERT_TRUE(b.ok()) << b.status().message();
    broker_ = std::move(*b);
  }
  ExportSummary MustExport(const std::string& topic, std::string* out, std::optional<int64_t> from = std::nullopt) {
    std::ostringstream o, err;
    auto s = Export({.brokers = broker_->bootstrap(), .topic = topic, .from_time_ms = from}, o, err);
    EXPECT_TRUE(s.ok()) << s.status().message();
    *out = o.str();
    return s.ok() ? *s : ExportSummary{};
  }
  std::unique_ptr<stream::EmbeddedBroker> broker_;
};

TEST_F(ExportTest, ProtobufInputsExportedAndReplayedRouteAsTheStoryItself) {
  std::ifstream in(kDir + "/examples/events.jsonl");
  std::stringstream story;
  story << in.rdbuf();
  Producer producer(broker_->bootstrap());
  int64_t ts = 1791190800000;  // one timestamp per record, in file order: partitions merge back into it
  size_t records = 0;
  for (const auto& line : Lines(story.str())) {
    auto bytes = codec::InputJsonToBinary(line);
    ASSERT_TRUE(bytes.ok()) << line;
    producer.Send("engagement-events", AccountOf(line), *bytes, ts++);
    ++records;
  }
  producer.Flush();

  std::string exported;
  auto summary = MustExport("engagement-events", &exported);
  EXPECT_EQ(summary.inputs, records);
  EXPECT_EQ(summary.unreadable, 0u);
  const std::string original_routing = ReplayOf(story.str());
  ASSERT_EQ(Lines(original_routing).size(), 13u) << "the example story routes 13 times";
  EXPECT_EQ(ReplayOf(exported), original_routing) << "same routing events, routing_ids included";

  // --from-time: the records stamped from then on.
  auto later = MustExport("engagement-events", &exported, 1791190800000 + 60);
  EXPECT_EQ(later.inputs, records - 60);
}

TEST_F(ExportTest, RoutingEventsComeOutAsReplayWritesThem) {
  const std::string routing = ReplayOf(R"({"account":{"account_id":"acme","industry":"software","employee_count":800,"country":"NL","updated_at_ms":1791190800000}})"
                                       "\n" R"({"lead":{"lead_id":"ana","account_id":"acme","seniority":"vp","role":"economic_buyer","updated_at_ms":1791190800000}})"
                                       "\n" R"({"event":{"event_id":"e1","lead_id":"ana","account_id":"acme","type":"product_trial_started","occurred_at_ms":1791190900000}})"
                                       "\n" R"({"event":{"event_id":"e2","lead_id":"ana","account_id":"acme","type":"webinar_attended","occurred_at_ms":1791191900000}})"
                                       "\n");
  const auto lines = Lines(routing);
  ASSERT_FALSE(lines.empty());
  Producer producer(broker_->bootstrap());
  int64_t ts = 1791190800000;
  for (const auto& l : lines) {
    auto ev = codec::RoutingEventFromJson(l);
    ASSERT_TRUE(ev.ok());
    producer.Send("routing-events", ev->account_id, codec::ToBinary(*ev), ts++);
  }
  producer.Flush();
  std::string exported;
  auto summary = MustExport("routing-events", &exported);
  EXPECT_EQ(summary.routing_events, lines.size());
  EXPECT_EQ(summary.inputs, 0u);
  EXPECT_EQ(exported, routing);
}

TEST_F(ExportTest, DeadLettersKeepTheirReasonAndSourceCoordinates) {
  // As the protobuf JSON mapping prints it (int64 as a string): the line replay reads.
  const std::string event = R"({"event":{"event_id":"e1","lead_id":"ana","account_id":"acme","type":"webinar_attended","occurred_at_ms":"1791190900000"}})";
  Producer producer(broker_->bootstrap());
  const std::map<std::string, std::string> headers = {{"error", "Kafka key 'other' differs from account_id 'acme'"},
                                                      {"source.topic", "engagement-events"},
                                                      {"source.partition", "2"},
                                                      {"source.offset", "41"}};
  producer.Send("leadscore-dlq", "other", *codec::InputJsonToBinary(event), 1791190800000, headers);
  producer.Send("leadscore-dlq", "acme", "\xff\x01not a record", 1791190800001,
                {{"error", "unparseable"}, {"source.topic", "profiles"}, {"source.partition", "0"}, {"source.offset", "7"}});
  producer.Flush();
  std::string exported;
  auto summary = MustExport("leadscore-dlq", &exported);
  EXPECT_EQ(summary.dead_letters, 2u);
  const auto lines = Lines(exported);
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::json::parse(lines[0])["dead_letter"];
  EXPECT_EQ(first["headers"], nlohmann::json(headers));
  EXPECT_EQ(first["key"], "other");
  EXPECT_EQ(first["input"], nlohmann::json::parse(event));
  const auto second = nlohmann::json::parse(lines[1])["dead_letter"];
  EXPECT_EQ(second["headers"]["source.offset"], "7");
  EXPECT_EQ(second["value_base64"], "/wFub3QgYSByZWNvcmQ=");
}

TEST_F(ExportTest, AMissingTopicIsAnError) {
  std::ostringstream out, err;
  auto s = Export({.brokers = broker_->bootstrap(), .topic = "no-such-topic", .timeout_ms = 5000}, out, err);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("does not exist"));
}

}  // namespace
}  // namespace leadscore::cli
