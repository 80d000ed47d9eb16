#!/usr/bin/env python3
"""The deploy files agree with each other, where no linter looks: the paths a config
names are where the compose file and the manifests put things, the ports and probes
meet, selectors select the pods, secrets named are secrets provided.

  deploy_files_test.py SOURCE_DIR      (ctest: DeployFilesAgreeWithEachOther)
"""
import json
import os
import re
import sys
import unittest

import yaml

SRC = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
DEPLOY = os.path.join(SRC, "deploy")


def load(*path):
    with open(os.path.join(DEPLOY, *path)) as f:
        return yaml.safe_load(f)


def load_all(*path):
    with open(os.path.join(DEPLOY, *path)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def under(path, directory):
    return os.path.normpath(path).startswith(os.path.normpath(directory) + os.sep)


def secret_refs(config, kind):
    """NAME or /path of every ${kind:...} in a config's values."""
    text = json.dumps(config)
    return re.findall(r"\$\{" + kind + r":([^}]+)\}", text)


class ComposeTest(unittest.TestCase):
    def setUp(self):
        self.compose = load("docker-compose.yml")
        self.services = self.compose["services"]
        self.leadscore = self.services["leadscore"]
        self.config = load("compose", "leadscore.yaml")

    def mounts(self, service):
        """container path -> host path (relative to deploy/) or volume name"""
        out = {}
        for v in self.services[service].get("volumes", []):
            host, container = v.split(":")[:2]
            out[container] = host
        return out

    def test_leadscore_reads_the_compose_config_and_the_example_model(self):
        args = self.leadscore["command"]
        config_path = args[args.index("--config") + 1]
        mounts = self.mounts("leadscore")
        self.assertEqual(mounts[config_path], "./compose/leadscore.yaml")
        self.assertEqual(mounts[self.config["model"]], "../examples/model.yaml")
        for host in mounts.values():
            if host.startswith("."):
                self.assertTrue(os.path.exists(os.path.join(DEPLOY, host)), host)

    def test_the_state_is_on_a_named_volume(self):
        volumes = {c: h for c, h in self.mounts("leadscore").items() if not h.startswith(".")}
        self.assertTrue(any(under(self.config["state_dir"], c) for c in volumes),
                        f"state_dir {self.config['state_dir']} is on none of {volumes}")
        for name in volumes.values():
            self.assertIn(name, self.compose["volumes"])

    def test_prometheus_scrapes_the_port_leadscore_listens_on_and_loads_the_rules(self):
        port = port_of(self.config["http"]["address"])
        self.assertIn(f"{port}:{port}", self.leadscore["ports"])
        prometheus = load("prometheus", "prometheus.yml")
        targets = [t for job in prometheus["scrape_configs"] if job["job_name"] == "leadscore"
                   for sc in job["static_configs"] for t in sc["targets"]]
        self.assertEqual(targets, [f"leadscore:{port}"])
        mounts = self.mounts("prometheus")
        config_dir = os.path.dirname(next(c for c, h in mounts.items() if h == "./prometheus/prometheus.yml"))
        for rule_file in prometheus["rule_files"]:
            self.assertEqual(mounts.get(os.path.join(config_dir, rule_file)), "./prometheus/" + rule_file)

    def test_grafana_is_provisioned_with_the_dashboard(self):
        mounts = self.mounts("grafana")
        self.assertEqual(mounts["/etc/grafana/provisioning"], "./grafana/provisioning")
        provider = load("grafana", "provisioning", "dashboards", "leadscore.yml")["providers"][0]
        dashboards = [c for c, h in mounts.items() if h == "./grafana/leadscore-dashboard.json"]
        self.assertEqual(len(dashboards), 1)
        self.assertTrue(under(dashboards[0], provider["options"]["path"]))
        source = load("grafana", "provisioning", "datasources", "prometheus.yml")["datasources"][0]
        self.assertEqual(source["url"], "http://prometheus:9090")

    def test_the_password_comes_from_an_environment_variable_the_container_has(self):
        names = secret_refs(self.config, "env")
        self.assertEqual(sorted(names), ["LEADSCORE_ADMIN_TOKEN", "LEADSCORE_KAFKA_PASSWORD"])
        for name in names:
            self.assertIn(name, self.leadscore["environment"])
        jaas = self.services["kafka"]["environment"]["KAFKA_LISTENER_NAME_CLIENT_PLAIN_SASL_JAAS_CONFIG"]
        self.assertIn(f'user_{self.config["kafka"]["sasl.username"]}="${{LEADSCORE_KAFKA_PASSWORD', jaas)

    def test_leadscore_uses_the_sasl_listener_and_the_tools_the_plaintext_one(self):
        kafka = self.services["kafka"]["environment"]
        protocols = dict(p.split(":") for p in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
        advertised = dict(re.match(r"(\w+)://(.+)", a).groups() for a in kafka["KAFKA_ADVERTISED_LISTENERS"].split(","))
        listener = {v: k for k, v in advertised.items()}
        self.assertEqual(protocols[listener[self.config["brokers"]]], self.config["kafka"]["security.protocol"])
        generate = self.services["generate"]["command"]
        self.assertEqual(protocols[listener[generate[generate.index("--brokers") + 1]]], "PLAINTEXT")

    def test_the_topics_created_are_the_topics_configured(self):
        script = self.services["kafka-init"]["command"][0]
        created = set(re.search(r"for topic in ([^;]+);", script).group(1).split())
        configured = {i["topic"] for i in self.config["inputs"]}
        configured |= {self.config["output"]["topic"], self.config["dlq_topic"]}
        self.assertEqual(created, configured)


class KubernetesTest(unittest.TestCase):
    def setUp(self):
        kustomization = load("k8s", "kustomization.yaml")
        self.docs = [d for r in kustomization["resources"] for d in load_all("k8s", r)]
        self.kind = lambda k: [d for d in self.docs if d["kind"] == k]
        self.sts = self.kind("StatefulSet")[0]
        self.pod = self.sts["spec"]["template"]["spec"]
        self.container = self.pod["containers"][0]
        self.config = load("k8s", "leadscore.yaml")
        self.generated = kustomization["configMapGenerator"][0]

    def mount_of(self, volume):
        return next(m["mountPath"] for m in self.container["volumeMounts"] if m["name"] == volume)

    def volume(self, name):
        return next(v for v in self.pod["volumes"] if v["name"] == name)

    def test_the_configmap_holds_the_config_and_the_model_where_the_config_says(self):
        self.assertEqual(self.volume("config")["configMap"]["name"], self.generated["name"])
        files = {os.path.basename(f) for f in self.generated["files"]}
        args = self.container["args"]
        config_path = args[args.index("--config") + 1]
        self.assertEqual(os.path.dirname(config_path), self.mount_of("config"))
        self.assertIn(os.path.basename(config_path), files)
        self.assertEqual(os.path.dirname(self.config["model"]), self.mount_of("config"))
        self.assertIn(os.path.basename(self.config["model"]), files)
        for f in self.generated["files"]:
            self.assertTrue(os.path.exists(os.path.join(DEPLOY, "k8s", f)), f)

    def test_the_state_is_on_the_pods_own_volume(self):
        claims = [c["metadata"]["name"] for c in self.sts["spec"]["volumeClaimTemplates"]]
        self.assertEqual(claims, ["state"])
        self.assertTrue(under(self.config["state_dir"], self.mount_of("state")))

    def test_probes_the_service_and_the_servicemonitor_meet_the_http_port(self):
        port = port_of(self.config["http"]["address"])
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.assertEqual(ports["http"], port)
        self.assertEqual(self.container["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "http"})
        self.assertEqual(self.container["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "http"})
        for service in self.kind("Service"):
            self.assertEqual([p["targetPort"] for p in service["spec"]["ports"]], ["http"])
        monitor = self.kind("ServiceMonitor")[0]
        scraped = [s for s in self.kind("Service")
                   if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
        self.assertEqual([s["metadata"]["name"] for s in scraped], ["leadscore"],
                         "one Service scraped (so no pod twice), named as the rules' job label")
        port_names = {p["name"] for p in scraped[0]["spec"]["ports"]}
        self.assertEqual([e["port"] for e in monitor["spec"]["endpoints"]], ["http"])
        self.assertIn("http", port_names)
        self.assertEqual(monitor["spec"]["endpoints"][0]["path"], "/metrics")

    def test_selectors_select_the_pods(self):
        labels = self.sts["spec"]["template"]["metadata"]["labels"]
        self.assertLessEqual(self.sts["spec"]["selector"]["matchLabels"].items(), labels.items())
        for pdb in self.kind("PodDisruptionBudget"):
            self.assertLessEqual(pdb["spec"]["selector"]["matchLabels"].items(), labels.items())
        for service in self.kind("Service"):
            self.assertLessEqual(service["spec"]["selector"].items(), labels.items())
        governing = [s for s in self.kind("Service") if s["metadata"]["name"] == self.sts["spec"]["serviceName"]]
        self.assertEqual(governing[0]["spec"]["clusterIP"], "None")

    def test_every_secret_the_config_names_is_provided(self):
        env = {e["name"]: e for e in self.container["env"]}
        for name in secret_refs(self.config, "env"):
            self.assertIn(name, env, f"${{env:{name}}} is not in the container's environment")
        secret_files = secret_refs(self.config, "file")
        self.assertTrue(secret_files)
        examples = {s["metadata"]["name"]: s for s in load_all("k8s", "secret.example.yaml")}
        for path in secret_files:
            mount = os.path.dirname(path)
            volume = next(m["name"] for m in self.container["volumeMounts"] if m["mountPath"] == mount)
            secret = self.volume(volume)["secret"]
            self.assertIn(secret["secretName"], examples)
            self.assertIn(os.path.basename(path), [i["path"] for i in secret["items"]])
            for item in secret["items"]:
                self.assertIn(item["key"], examples[secret["secretName"]]["stringData"])
        for e in env.values():
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                self.assertIn(ref["name"], examples)
                self.assertIn(ref["key"], examples[ref["name"]]["stringData"])

    def test_the_pod_stops_gracefully_and_runs_as_the_images_user(self):
        self.assertIn("preStop", self.container["lifecycle"])
        self.assertGreaterEqual(self.pod["terminationGracePeriodSeconds"], 60)
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            user = re.search(r"^USER (\d+):(\d+)$", f.read(), re.M).groups()
        context = self.pod["securityContext"]
        self.assertEqual((str(context["runAsUser"]), str(context["runAsGroup"])), user)
        self.assertEqual(str(context["fsGroup"]), user[1], "the state volume is writable by the image's user")


class RulesTest(unittest.TestCase):
    def test_every_alert_has_a_promtool_test_where_it_fires(self):
        rules = load("prometheus", "leadscore-rules.yml")
        alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
        tests = load("prometheus", "leadscore-rules.test.yml")
        fired = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", []) if t["exp_alerts"]}
        quiet = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", []) if not t["exp_alerts"]}
        self.assertEqual(alerts - fired, set(), "alerts no test sees firing")
        self.assertEqual(alerts - quiet, set(), "alerts no test sees quiet")


if __name__ == "__main__":
    unittest.main(verbosity=2)
