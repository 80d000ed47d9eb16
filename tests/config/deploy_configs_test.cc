// The leadscore.yaml files of deploy/ are configs `leadscore run --config` accepts: the
// container image's default, the compose stack's and the Kubernetes ConfigMap's (with
// its model). Their secrets come from ${env:NAME} and ${file:/path}: the test provides
// both, so the files load whether or not the loader resolves them yet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config.h"
#include "model/model.h"

namespace leadscore::config {
namespace {

const std::string kSourceDir = LEADSCORE_SOURCE_DIR;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// What every installed config shares: absolute paths under the image's layout.
void ExpectInstalledLayout(const Config& c) {
  EXPECT_EQ(c.model_path, "/etc/leadscore/model.yaml");
  EXPECT_EQ(c.service.store.dir, "/var/lib/leadscore/state");
  EXPECT_EQ(c.http.address, "0.0.0.0:8080") << "probes and Prometheus reach it from outside the container";
}

TEST(DeployConfigsTest, TheImageDefaultConfigLoadsWithItsAdminTokenFromTheEnvironment) {
  ASSERT_EQ(setenv("LEADSCORE_ADMIN_TOKEN", "image-token", 1), 0);
  auto c = LoadConfigFromFile(kSourceDir + "/deploy/leadscore.yaml");
  unsetenv("LEADSCORE_ADMIN_TOKEN");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ExpectInstalledLayout(*c);
  EXPECT_EQ(c->http.admin_token, "image-token");
  auto without = LoadConfigFromFile(kSourceDir + "/deploy/leadscore.yaml");
  ASSERT_FALSE(without.ok()) << "0.0.0.0 without a token";
  EXPECT_THAT(without.status().message(), ::testing::HasSubstr("LEADSCORE_ADMIN_TOKEN is not set"));
}

TEST(DeployConfigsTest, TheComposeConfigLoadsWithItsPasswordFromTheEnvironment) {
  ASSERT_EQ(setenv("LEADSCORE_KAFKA_PASSWORD", "compose-secret", 1), 0);
  ASSERT_EQ(setenv("LEADSCORE_ADMIN_TOKEN", "compose-token", 1), 0);
  auto c = LoadConfigFromFile(kSourceDir + "/deploy/compose/leadscore.yaml");
  unsetenv("LEADSCORE_KAFKA_PASSWORD");
  unsetenv("LEADSCORE_ADMIN_TOKEN");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ExpectInstalledLayout(*c);
  EXPECT_EQ(c->service.brokers, "kafka:9092");
  EXPECT_EQ(c->service.kafka["security.protocol"], "SASL_PLAINTEXT");
  EXPECT_THAT(c->service.kafka["sasl.password"], ::testing::AnyOf("compose-secret", "${env:LEADSCORE_KAFKA_PASSWORD}"));
  EXPECT_EQ(c->http.admin_token, "compose-token");
}

TEST(DeployConfigsTest, TheKubernetesConfigLoadsWithItsSecretsAndItsModelIsValid) {
  // The files the Secret volumes mount (the password, the admin token), here in a
  // temporary directory.
  const std::string mount = "/var/run/secrets/leadscore/kafka/", admin_mount = "/var/run/secrets/leadscore/admin/";
  const std::string dir = ::testing::TempDir() + "/leadscore-k8s-secret-" + std::to_string(getpid()) + "/";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "password") << "k8s-secret";
  std::ofstream(dir + "token") << "k8s-token\n";
  std::string text = ReadFile(kSourceDir + "/deploy/k8s/leadscore.yaml");
  const size_t at = text.find("${file:" + mount);
  ASSERT_NE(at, std::string::npos) << "the password is read from the Secret's mount, " << mount;
  text.replace(at + 7, mount.size(), dir);
  const size_t admin_at = text.find("${file:" + admin_mount);
  ASSERT_NE(admin_at, std::string::npos) << "the admin token is read from its Secret's mount, " << admin_mount;
  text.replace(admin_at + 7, admin_mount.size(), dir);
  ASSERT_EQ(setenv("KAFKA_SASL_USERNAME", "leadscore", 1), 0);
  ASSERT_EQ(setenv("POD_NAME", "leadscore-0", 1), 0);
  auto c = LoadConfigFromString(text);
  unsetenv("KAFKA_SASL_USERNAME");
  unsetenv("POD_NAME");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ExpectInstalledLayout(*c);
  EXPECT_THAT(c->service.kafka["sasl.password"], ::testing::AnyOf("k8s-secret", "${file:" + dir + "password}"));
  EXPECT_EQ(c->http.admin_token, "k8s-token") << "the file's trailing newline is not part of it";
  EXPECT_THAT(c->service.kafka_consumer["group.instance.id"], ::testing::AnyOf("leadscore-0", "${env:POD_NAME}"));

  auto model = model::LoadModelFromFile(kSourceDir + "/deploy/k8s/model.yaml");
  EXPECT_TRUE(model.ok()) << model.ErrorText();
}

}  // namespace
}  // namespace leadscore::config
