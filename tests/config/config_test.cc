#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace leadscore::config {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, TheExampleFileLoadsWithEveryKey) {
  auto c = LoadConfigFromFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/leadscore.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.brokers, "127.0.0.1:9092");
  EXPECT_EQ(c->service.inputs.size(), 3u);
  EXPECT_EQ(c->service.max_future_skew_ms, 3600 * 1000);
  EXPECT_EQ(c->service.engine.dedupe_window_ms, 90LL * 24 * 3600 * 1000);
  EXPECT_EQ(c->embedded_partitions, 4);
  EXPECT_EQ(c->model_path, "examples/model.yaml");
  EXPECT_EQ(c->service.store.dir, "leadscore-state");
  EXPECT_EQ(c->service.store.block_cache_bytes, 256u << 20);
  EXPECT_EQ(c->service.store.write_buffer_bytes, 64u << 20);
  EXPECT_FALSE(c->service.store.sync);
  EXPECT_EQ(c->service.cache_entities, 500000u);
  EXPECT_EQ(c->service.decoder.max_attributes, 1000u);
  EXPECT_EQ(c->service.decoder.max_attribute_bytes, 65536u);
  EXPECT_EQ(c->service.decoder.max_id_bytes, 256u);
  EXPECT_EQ(c->log_format, logging::Format::kText);
}

TEST(ConfigTest, LimitsAndTheHotSetAreConfigurable) {
  auto c = LoadConfigFromString(
      "limits: { max_attributes: 10, max_attribute_bytes: 100, max_record_bytes: 4096, max_dead_letter_bytes: 1000 }\n"
      "state: { cache_entities: 5 }\nthreads: 2\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.decoder.max_record_bytes, 4096u);
  EXPECT_EQ(c->service.max_dead_letter_bytes, 1000u);
  EXPECT_EQ(c->service.threads, 2u);
  EXPECT_EQ(c->service.decoder.max_attributes, 10u);
  EXPECT_EQ(c->service.decoder.max_attribute_bytes, 100u);
  EXPECT_EQ(c->service.cache_entities, 5u);
  auto bad = LoadConfigFromString("limits:\n  max_atributes: 10\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 2"));
}

TEST(ConfigTest, AnEmptyFileIsAllDefaults) {
  auto c = LoadConfigFromString("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->service.output_topic, "routing-events");
  EXPECT_EQ(c->service.dlq_topic, "leadscore-dlq");
  EXPECT_EQ(c->service.inputs[0].name, "engagement-events");
}

TEST(ConfigTest, FormatsAndKafkaPassThrough) {
  auto c = LoadConfigFromString(
      "inputs:\n  - { topic: ev, format: json }\noutput: { format: json }\nkafka:\n  security.protocol: SASL_SSL\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.inputs[0].format, codec::Format::kJson);
  EXPECT_EQ(c->service.output_format, codec::Format::kJson);
  EXPECT_EQ(c->service.kafka.at("security.protocol"), "SASL_SSL");
}

TEST(ConfigTest, RefusesUnknownKeysAndBadValuesWithTheirLines) {
  auto c = LoadConfigFromString("group_id: x\nbatchh: 3\nbatch: { max_records: 0 }\ninputs:\n  - { topic: a, format: avro }\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("line 2: unknown key 'batchh'"));
  EXPECT_THAT(c.status().message(), HasSubstr("line 3: expected a whole number"));
  EXPECT_THAT(c.status().message(), HasSubstr("line 5: format must be protobuf or json, not 'avro'"));
}

TEST(ConfigTest, BooleansAreYamlCoreBooleans) {
  for (const char* yes : {"true", "True", "TRUE"}) {
    auto c = LoadConfigFromString(std::string("state: { sync: ") + yes + " }\n");
    ASSERT_TRUE(c.ok()) << yes << ": " << c.status().message();
    EXPECT_TRUE(c->service.store.sync) << yes;
  }
  for (const char* no : {"false", "False", "FALSE"}) {
    auto c = LoadConfigFromString(std::string("state: { sync: ") + no + " }\n");
    ASSERT_TRUE(c.ok()) << no << ": " << c.status().message();
    EXPECT_FALSE(c->service.store.sync) << no;
  }
}

TEST(ConfigTest, RefusesAMisspeltOrNonCoreBooleanWithItsLine) {
  // "treu" used to be taken as false; YAML 1.1's yes/on and a quoted "true" are not
  // YAML 1.2 booleans either.
  for (const char* bad : {"treu", "yes", "on", "1", "\"true\"", "[true]"}) {
    auto c = LoadConfigFromString(std::string("group_id: x\nstate:\n  sync: ") + bad + "\n");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_THAT(c.status().message(), HasSubstr("line 3: expected true or false")) << bad;
  }
}

TEST(ConfigTest, LogFormatIsTextOrJson) {
  EXPECT_EQ(LoadConfigFromString("")->log_format, logging::Format::kText);
  auto json = LoadConfigFromString("log_format: json\n");
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_EQ(json->log_format, logging::Format::kJson);
  auto bad = LoadConfigFromString("group_id: x\nlog_format: logfmt\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 2: log_format must be text or json, not 'logfmt'"));
}

TEST(ConfigTest, RefusesABadHttpAddressWithItsLine) {
  for (const char* bad : {":abc", "127.0.0.1:99999", "::1:8080", "localhost"}) {
    auto c = LoadConfigFromString(std::string("group_id: x\nhttp:\n  address: \"") + bad + "\"\n");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_THAT(c.status().message(), HasSubstr(std::string("line 3: http address '") + bad + "'")) << bad;
  }
  auto v6 = LoadConfigFromString("http: { address: \"[::1]:8080\" }\n");
  ASSERT_TRUE(v6.ok()) << v6.status().message();
  EXPECT_EQ(v6->http_address, "[::1]:8080");
}

}  // namespace
}  // namespace leadscore::config
