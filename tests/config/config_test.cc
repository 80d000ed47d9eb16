#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

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
  // Relative paths are the config file's directory's.
  EXPECT_EQ(c->model_path, std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  EXPECT_EQ(c->service.store.dir, std::string(LEADSCORE_SOURCE_DIR) + "/examples/leadscore-state");
  EXPECT_EQ(c->service.store.block_cache_bytes, 256u << 20);
  EXPECT_EQ(c->service.store.write_buffer_bytes, 64u << 20);
  EXPECT_FALSE(c->service.store.sync);
  EXPECT_EQ(c->service.cache_bytes, size_t{1024} << 20);
  EXPECT_EQ(c->service.cache_entities, SIZE_MAX) << "the hot set is bounded in bytes, not entities";
  EXPECT_EQ(c->service.commit_interval_ms, 100);
  EXPECT_EQ(c->service.max_process_ms, 20);
  EXPECT_EQ(c->service.decoder.max_attributes, 1000u);
  EXPECT_EQ(c->service.decoder.max_attribute_bytes, 65536u);
  EXPECT_EQ(c->service.decoder.max_id_bytes, 256u);
  EXPECT_EQ(c->log_format, logging::Format::kText);
}

TEST(ConfigTest, LimitsAndTheHotSetAreConfigurable) {
  auto c = LoadConfigFromString(
      "limits: { max_attributes: 10, max_attribute_bytes: 100, max_record_bytes: 4096, max_dead_letter_bytes: 1000 }\n"
      "state: { cache_entities: 5, cache_mb: 300 }\nthreads: 2\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.decoder.max_record_bytes, 4096u);
  EXPECT_EQ(c->service.max_dead_letter_bytes, 1000u);
  EXPECT_EQ(c->service.threads, 2u);
  EXPECT_EQ(c->service.decoder.max_attributes, 10u);
  EXPECT_EQ(c->service.decoder.max_attribute_bytes, 100u);
  EXPECT_EQ(c->service.cache_entities, 5u);
  EXPECT_EQ(c->service.cache_bytes, size_t{300} << 20);
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

TEST(ConfigTest, CommitIntervalDefaultsTo100MsAndIsCheckedWithItsLine) {
  auto d = LoadConfigFromString("group_id: x\n");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->service.commit_interval_ms, 100);
  auto c = LoadConfigFromString("batch: { commit_interval_ms: 0 }\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.commit_interval_ms, 0) << "0: a commit per batch";
  EXPECT_TRUE(d->service.commit_when_caught_up);
  auto interval_alone = LoadConfigFromString("batch: { commit_when_caught_up: false }\n");
  ASSERT_TRUE(interval_alone.ok()) << interval_alone.status().message();
  EXPECT_FALSE(interval_alone->service.commit_when_caught_up);
  auto bad = LoadConfigFromString("group_id: x\nbatch: { commit_interval_ms: -5 }\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 2: expected a whole number from 0 to 60000"));
}

TEST(ConfigTest, TheBatchTimeBudgetDefaultsTo20MsAndIsCheckedWithItsLine) {
  auto d = LoadConfigFromString("group_id: x\n");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->service.max_process_ms, 20);
  auto off = LoadConfigFromString("batch: { max_process_ms: 0 }\n");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_EQ(off->service.max_process_ms, 0) << "0: every poll may take max_records";
  auto bad = LoadConfigFromString("group_id: x\nbatch: { max_process_ms: -1 }\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 2: expected a whole number from 0 to 60000"));
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

TEST(ConfigTest, RoutingRetentionIsADurationDefaulting400DaysAndRefusedWithItsLine) {
  auto defaults = LoadConfigFromString("group_id: x\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->service.store.routing_retention_ms, 400LL * 24 * 3600 * 1000);
  auto c = LoadConfigFromString("state:\n  routing_retention: 90d\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.store.routing_retention_ms, 90LL * 24 * 3600 * 1000);
  for (const char* bad : {"forever", "0s", "-3d"}) {
    auto refused = LoadConfigFromString(std::string("group_id: x\nstate:\n  routing_retention: ") + bad + "\n");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(refused.status().message(), HasSubstr("line 3: ")) << bad;
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
  EXPECT_EQ(v6->http.address, "[::1]:8080");
}

TEST(ConfigTest, HttpLimitsHaveDefaultsAndAreRefusedOutOfRangeWithTheirLine) {
  auto d = LoadConfigFromString("");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->http.max_connections, 256);
  EXPECT_EQ(d->http.max_header_bytes, 16u * 1024);
  EXPECT_EQ(d->http.max_body_bytes, 1u << 20);
  auto c = LoadConfigFromString(
      "http: { address: 127.0.0.1:9090, threads: 1, max_connections: 64, idle_timeout_ms: 2000, read_timeout_ms: 1000,\n"
      "        max_header_bytes: 8192, max_header_count: 50, max_body_bytes: 4096, max_requests_per_connection: 10 }\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->http.address, "127.0.0.1:9090");
  EXPECT_EQ(c->http.io_threads, 1);
  EXPECT_EQ(c->http.max_connections, 64);
  EXPECT_EQ(c->http.idle_timeout_ms, 2000);
  EXPECT_EQ(c->http.read_timeout_ms, 1000);
  EXPECT_EQ(c->http.max_header_bytes, 8192u);
  EXPECT_EQ(c->http.max_header_count, 50);
  EXPECT_EQ(c->http.max_body_bytes, 4096u);
  EXPECT_EQ(c->http.max_requests_per_connection, 10);
  auto bad = LoadConfigFromString("group_id: x\nhttp:\n  max_connections: 0\n  idle_timeout_ms: soon\n  max_headers: 5\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 3: expected a whole number from 1 to 100000"));
  EXPECT_THAT(bad.status().message(), HasSubstr("line 4: expected a whole number from 1 to 3600000"));
  EXPECT_THAT(bad.status().message(), HasSubstr("line 5: unknown key 'max_headers' in http"));
}

TEST(ConfigTest, ANonLoopbackHttpAddressNeedsAnAdminTokenRefusedWithItsLine) {
  for (const char* open : {"0.0.0.0:8080", "[::]:8080", "10.1.2.3:8080", "leadscore.internal:8080"}) {
    auto c = LoadConfigFromString(std::string("group_id: x\nhttp:\n  address: \"") + open + "\"\n");
    ASSERT_FALSE(c.ok()) << open;
    EXPECT_THAT(c.status().message(), HasSubstr(std::string("line 3: http address '") + open +
                                                "' can be reached from other machines: set http.admin_token"));
  }
  for (const char* loopback : {"127.0.0.1:8080", "127.1.2.3:0", "[::1]:8080", "localhost:8080"}) {
    auto c = LoadConfigFromString(std::string("http: { address: \"") + loopback + "\" }\n");
    EXPECT_TRUE(c.ok()) << loopback << ": " << c.status().message();
  }
  ASSERT_EQ(setenv("LEADSCORE_TEST_ADMIN_TOKEN", "s3cret", 1), 0);
  auto c = LoadConfigFromString("http: { address: 0.0.0.0:8080, admin_token: \"${env:LEADSCORE_TEST_ADMIN_TOKEN}\" }\n");
  unsetenv("LEADSCORE_TEST_ADMIN_TOKEN");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->http.admin_token, "s3cret");
  EXPECT_FALSE(LoadConfigFromString("http: { address: 0.0.0.0:8080, admin_token: \"\" }\n").ok()) << "empty is none";
}

// A directory of its own under the test temp dir, emptied first.
std::string Scratch(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir() + "/leadscore-config-test-" + name).lexically_normal();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST(ConfigTest, EnvAndFileReferencesKeepSecretsOutOfTheFile) {
  const std::string dir = Scratch("secrets");
  std::ofstream(dir + "/password") << "s3cr3t\n";  // as secret files usually end
  ::setenv("LEADSCORE_TEST_SASL_USER", "leadscore", 1);
  ::setenv("LEADSCORE_TEST_BATCH", "250", 1);
  ::setenv("LEADSCORE_TEST_SYNC", "true", 1);
  auto c = LoadConfigFromString("kafka:\n"
                                "  sasl.username: ${env:LEADSCORE_TEST_SASL_USER}\n"
                                "  sasl.password: \"${file:" + dir + "/password}\"\n"
                                "  sasl.jaas: \"user=${env:LEADSCORE_TEST_SASL_USER} pass=${file:password} $${literal}\"\n"
                                "batch: { max_records: \"${env:LEADSCORE_TEST_BATCH}\" }\n"  // a flow map needs quotes
                                "state:\n"
                                "  sync: ${env:LEADSCORE_TEST_SYNC}\n",
                                dir);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.kafka.at("sasl.username"), "leadscore");
  EXPECT_EQ(c->service.kafka.at("sasl.password"), "s3cr3t") << "the trailing newline is not part of it";
  EXPECT_EQ(c->service.kafka.at("sasl.jaas"), "user=leadscore pass=s3cr3t ${literal}")
      << "${file:} relative to the base directory; $${ is a literal ${";
  EXPECT_EQ(c->service.max_batch, 250u) << "a substituted number is still a number";
  EXPECT_TRUE(c->service.store.sync) << "and a boolean still a boolean";
  auto quoted = LoadConfigFromString("state: { sync: \"${env:LEADSCORE_TEST_SYNC}\" }\n");
  ASSERT_TRUE(quoted.ok()) << quoted.status().message();
  EXPECT_TRUE(quoted->service.store.sync) << "quotes around a reference are syntax, not a string type";
}

TEST(ConfigTest, AnUnsetVariableOrAnUnreadableFileIsAProblemWithItsLine) {
  ::unsetenv("LEADSCORE_TEST_UNSET");
  auto c = LoadConfigFromString("group_id: x\n"
                                "kafka:\n"
                                "  sasl.password: ${env:LEADSCORE_TEST_UNSET}\n"
                                "  ssl.key.password: ${file:/nonexistent/leadscore/secret}\n"
                                "  sasl.username: ${vault:kv/leadscore}\n"
                                "  client.id: ${env:LEADSCORE\n");
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_THAT(m, HasSubstr("line 3: ${env:LEADSCORE_TEST_UNSET}: the environment variable LEADSCORE_TEST_UNSET is not set"));
  EXPECT_THAT(m, HasSubstr("line 4: ${file:/nonexistent/leadscore/secret}: cannot read '/nonexistent/leadscore/secret': No such file or directory"));
  EXPECT_THAT(m, HasSubstr("line 5: ${vault:kv/leadscore}: write ${env:NAME} or ${file:/path}"));
  EXPECT_THAT(m, HasSubstr("line 6: '${env:LEADSCORE' has no closing '}'"));
}

TEST(ConfigTest, ModelAndStateDirAreRelativeToTheConfigFile) {
  const std::string dir = Scratch("paths");
  std::filesystem::create_directories(dir + "/etc");
  std::ofstream(dir + "/etc/a.yaml") << "model: model.yaml\nstate_dir: ../var/state\n";
  auto a = LoadConfigFromFile(dir + "/etc/a.yaml");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->model_path, dir + "/etc/model.yaml");
  EXPECT_EQ(a->service.store.dir, dir + "/var/state");

  std::ofstream(dir + "/etc/b.yaml") << "model: /opt/model.yaml\nstate_dir: /var/lib/leadscore\n";
  auto b = LoadConfigFromFile(dir + "/etc/b.yaml");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->model_path, "/opt/model.yaml") << "absolute paths stay";
  EXPECT_EQ(b->service.store.dir, "/var/lib/leadscore");

  std::ofstream(dir + "/etc/c.yaml") << "state_dir: \"\"\n";
  auto c = LoadConfigFromFile(dir + "/etc/c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service.store.dir, "") << "memory only stays memory only";
  EXPECT_EQ(c->model_path, "");

  std::ofstream(dir + "/etc/d.yaml") << "group_id: g\n";
  auto d = LoadConfigFromFile(dir + "/etc/d.yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->service.store.dir, dir + "/etc/leadscore-state") << "the default is next to the config too";
}

}  // namespace
}  // namespace leadscore::config
