#!/usr/bin/env python3
"""Structural checks of deploy/: the rendered kustomize objects, the Prometheus and
Alertmanager examples, the systemd unit and the Dockerfile.

    python3 tests/deploy/deploy_test.py [TestClass ...]

Needs kubectl (kustomize), promtool, amtool and systemd-analyze; a test whose tool is
missing fails with the tool's name rather than passing.
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")


def tool(name):
    path = shutil.which(name)
    if not path:
        raise AssertionError(f"{name} is not installed")
    return path


def kustomize(directory):
    result = subprocess.run([tool("kubectl"), "kustomize", directory], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(objects):
    found = {}
    for obj in objects:
        found.setdefault(obj["kind"], []).append(obj)
    return found


def only(objects, kind):
    matches = by_kind(objects).get(kind, [])
    if len(matches) != 1:
        raise AssertionError(f"expected one {kind}, found {len(matches)}")
    return matches[0]


class KustomizeBaseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = kustomize(os.path.join(DEPLOY, "kubernetes"))
        cls.daemonset = only(cls.objects, "DaemonSet")
        cls.pod = cls.daemonset["spec"]["template"]["spec"]
        cls.container = cls.pod["containers"][0]

    def test_kinds(self):
        kinds = sorted(obj["kind"] for obj in self.objects)
        self.assertEqual(kinds, sorted([
            "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet",
            "Service", "ServiceMonitor", "PrometheusRule", "ConfigMap", "ConfigMap",
        ]))

    def test_namespaced_objects_live_in_podpath(self):
        for obj in self.objects:
            if obj["kind"] in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
                self.assertNotIn("namespace", obj["metadata"], obj["kind"])
            else:
                self.assertEqual(obj["metadata"].get("namespace"), "podpath", obj["kind"])

    def test_rbac_reads_nodes_only(self):
        role = only(self.objects, "ClusterRole")
        self.assertEqual(role["rules"],
                         [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}])
        binding = only(self.objects, "ClusterRoleBinding")
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                              "name": role["metadata"]["name"]})
        account = only(self.objects, "ServiceAccount")
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                                "namespace": "podpath"}])
        self.assertEqual(self.pod["serviceAccountName"], account["metadata"]["name"])

    def test_host_network_and_node_name(self):
        self.assertIs(self.pod["hostNetwork"], True)
        self.assertEqual(self.pod["dnsPolicy"], "ClusterFirstWithHostNet")
        env = {e["name"]: e for e in self.container["env"]}
        self.assertEqual(env["NODE_NAME"]["valueFrom"], {"fieldRef": {"fieldPath": "spec.nodeName"}})

    def test_runs_on_control_plane_nodes(self):
        keys = {t["key"]: t for t in self.pod["tolerations"]}
        self.assertEqual(keys["node-role.kubernetes.io/control-plane"]["operator"], "Exists")
        self.assertEqual(keys["node-role.kubernetes.io/control-plane"]["effect"], "NoSchedule")
        self.assertIn("node-role.kubernetes.io/master", keys)

    def test_least_privilege(self):
        security = self.container["securityContext"]
        self.assertEqual(security["capabilities"], {"drop": ["ALL"], "add": ["NET_RAW"]})
        self.assertIs(security["readOnlyRootFilesystem"], True)
        self.assertIs(security["allowPrivilegeEscalation"], False)
        self.assertIs(security.get("privileged", False), False)
        for context in (security, self.pod["securityContext"]):
            self.assertIs(context["runAsNonRoot"], True)
            self.assertIsInstance(context["runAsUser"], int)
            self.assertGreater(context["runAsUser"], 0)
        self.assertEqual(security["runAsUser"], self.pod["securityContext"]["runAsUser"])
        self.assertNotIn("hostPID", self.pod)
        self.assertNotIn("hostIPC", self.pod)

    def test_host_paths_are_read_only(self):
        volumes = {v["name"]: v for v in self.pod["volumes"]}
        mounts = {m["mountPath"]: m for m in self.container["volumeMounts"]}
        for path in ("/var/run/tailscale", "/run/flannel"):
            self.assertIn(path, mounts)
            self.assertIs(mounts[path]["readOnly"], True, path)
            self.assertEqual(volumes[mounts[path]["name"]]["hostPath"]["path"], path)
        self.assertEqual(len(mounts), 2, "only the flannel and Tailscale directories are mounted")

    def test_flags_match_the_mounts(self):
        args = self.container["args"]
        self.assertIn("--flannel.subnet-file=/run/flannel/subnet.env", args)
        self.assertIn("--tailscale.socket=/var/run/tailscale/tailscaled.sock", args)
        self.assertIn("--web.listen-address=:18472", args)

    def test_probes_resources_and_port(self):
        self.assertEqual(self.container["livenessProbe"]["httpGet"], {"path": "/-/healthy", "port": 18472})
        self.assertEqual(self.container["readinessProbe"]["httpGet"], {"path": "/-/ready", "port": 18472})
        self.assertEqual(self.container["ports"], [{"name": "metrics", "containerPort": 18472, "protocol": "TCP"}])
        for kind in ("requests", "limits"):
            self.assertEqual(set(self.container["resources"][kind]), {"cpu", "memory"}, kind)
        self.assertTrue(self.container["image"].startswith("ghcr.io/podpath/podpath-exporter:"))

    def test_service_and_monitor_select_the_pods(self):
        labels = self.daemonset["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(self.daemonset["spec"]["selector"]["matchLabels"].items() - labels.items(), set())
        service = only(self.objects, "Service")
        self.assertEqual(service["spec"]["clusterIP"], "None")
        self.assertEqual(service["spec"]["selector"].items() - labels.items(), set())
        self.assertEqual(service["spec"]["ports"][0]["targetPort"], "metrics")
        monitor = only(self.objects, "ServiceMonitor")
        self.assertEqual(monitor["spec"]["selector"]["matchLabels"].items() - service["metadata"]["labels"].items(),
                         set())
        self.assertEqual(monitor["spec"]["endpoints"][0]["port"], "metrics")
        # The operator names the job after the Service; the alerts select job=~"podpath.*".
        self.assertTrue(service["metadata"]["name"].startswith("podpath"))

    def test_prometheus_rule_is_the_generated_rule_file(self):
        rule = only(self.objects, "PrometheusRule")
        with open(os.path.join(ROOT, "alerts", "podpath.rules.yml"), encoding="utf-8") as handle:
            self.assertEqual(rule["spec"], yaml.safe_load(handle))

    def test_dashboards_are_sidecar_config_maps(self):
        maps = by_kind(self.objects)["ConfigMap"]
        committed = sorted(n for n in os.listdir(os.path.join(ROOT, "dashboards"))
                           if n.startswith("podpath-") and n.endswith(".json"))
        self.assertEqual(sorted(key for m in maps for key in m["data"]), committed)
        for config_map in maps:
            self.assertEqual(config_map["metadata"]["labels"]["grafana_dashboard"], "1")
            for name, text in config_map["data"].items():
                with open(os.path.join(ROOT, "dashboards", name), encoding="utf-8") as handle:
                    self.assertEqual(text, handle.read(), name)


class KustomizePodMonitorTest(unittest.TestCase):
    def test_pod_monitor_replaces_service_and_service_monitor(self):
        objects = kustomize(os.path.join(DEPLOY, "kubernetes-podmonitor"))
        kinds = by_kind(objects)
        self.assertNotIn("ServiceMonitor", kinds)
        self.assertNotIn("Service", kinds)
        monitor = only(objects, "PodMonitor")
        pod_labels = only(objects, "DaemonSet")["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(monitor["spec"]["selector"]["matchLabels"].items() - pod_labels.items(), set())
        self.assertEqual(monitor["spec"]["podMetricsEndpoints"][0]["port"], "metrics")
        self.assertEqual(monitor["metadata"]["namespace"], "podpath")


# Debian's Prometheus 2.42 is built without Kubernetes service discovery, so its promtool
# rejects kubernetes_sd_configs. Where it does, the test checks the rest of the file with
# promtool and the Kubernetes jobs field by field here.
K8S_ROLES = {"pod", "endpoints", "endpointslice", "service", "node", "ingress"}
RELABEL_ACTIONS = {"replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap", "labeldrop",
                   "labelkeep", "lowercase", "uppercase"}


def promtool_knows_kubernetes_sd():
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as probe:
        probe.write("scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs:\n      - role: pod\n")
        probe.flush()
        return subprocess.run([tool("promtool"), "check", "config", probe.name], capture_output=True).returncode == 0


class PrometheusConfigTest(unittest.TestCase):
    def setUp(self):
        self.path = os.path.join(DEPLOY, "prometheus", "prometheus.yml")
        with open(self.path, encoding="utf-8") as handle:
            self.config = yaml.safe_load(handle)

    def check_config(self, config):
        with tempfile.TemporaryDirectory() as scratch:
            # rule_files must exist for promtool: point them at the real generated rules.
            config = copy.deepcopy(config)
            config["rule_files"] = [os.path.join(ROOT, "alerts", "podpath.rules.yml")]
            path = os.path.join(scratch, "prometheus.yml")
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(config, handle)
            result = subprocess.run([tool("promtool"), "check", "config", path], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_promtool_accepts_it(self):
        if promtool_knows_kubernetes_sd():
            self.check_config(self.config)
            return
        print("promtool lacks kubernetes_sd_configs (Debian build): checking the other jobs with promtool",
              file=sys.stderr)
        rest = copy.deepcopy(self.config)
        rest["scrape_configs"] = [job for job in rest["scrape_configs"] if "kubernetes_sd_configs" not in job]
        self.check_config(rest)

    def test_kubernetes_jobs(self):
        jobs = [job for job in self.config["scrape_configs"] if "kubernetes_sd_configs" in job]
        self.assertTrue(jobs, "an example with kubernetes_sd_configs")
        for job in jobs:
            self.assertTrue(job["job_name"].startswith("podpath"), "alerts select job=~\"podpath.*\"")
            for sd in job["kubernetes_sd_configs"]:
                self.assertIn(sd["role"], K8S_ROLES)
                self.assertEqual(set(sd) - {"role", "namespaces", "selectors", "api_server", "kubeconfig_file"}, set())
            keeps = []
            for relabel in job["relabel_configs"]:
                action = relabel.get("action", "replace")
                self.assertIn(action, RELABEL_ACTIONS)
                re.compile(relabel.get("regex", "(.*)"))
                for label in relabel.get("source_labels", []):
                    self.assertRegex(label, r"^__meta_kubernetes_[a-z_]+$|^__[a-z_]+__$")
                if action == "keep":
                    keeps.append(relabel)
            # It must select the exporter's pods by label and the metrics port by name.
            self.assertTrue(any("podpath-exporter" in k["regex"] for k in keeps))
            self.assertTrue(any("metrics" in k["regex"] for k in keeps))

    def test_static_job(self):
        static = [job for job in self.config["scrape_configs"] if "static_configs" in job]
        self.assertTrue(static)
        for job in static:
            self.assertTrue(job["job_name"].startswith("podpath"))
            for group in job["static_configs"]:
                for target in group["targets"]:
                    self.assertTrue(target.endswith(":18472"), target)


class AlertmanagerConfigTest(unittest.TestCase):
    path = os.path.join(DEPLOY, "alertmanager", "alertmanager.yml")

    def test_amtool_accepts_it(self):
        result = subprocess.run([tool("amtool"), "check-config", self.path], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def route(self, *labels):
        result = subprocess.run([tool("amtool"), "config", "routes", "test", "--config.file", self.path, *labels],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def test_critical_pages_the_rest_goes_to_default(self):
        self.assertEqual(self.route("alertname=PodpathVXLANPublicExposed", "severity=critical"), "pager")
        self.assertEqual(self.route("alertname=PodpathPeerUnreachable", "severity=critical"), "pager")
        self.assertEqual(self.route("alertname=PodpathRouteViaDERP", "severity=warning"), "default")
        self.assertEqual(self.route("alertname=Other"), "default")


class SystemdUnitTest(unittest.TestCase):
    path = os.path.join(DEPLOY, "systemd", "podpath-exporter.service")

    def test_systemd_analyze_verify(self):
        with open(self.path, encoding="utf-8") as handle:
            unit = handle.read()
        with tempfile.TemporaryDirectory() as scratch:
            # verify insists that ExecStart's binary exists on this machine.
            path = os.path.join(scratch, "podpath-exporter.service")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(unit.replace("/usr/local/bin/podpath-exporter", shutil.which("true")))
            result = subprocess.run([tool("systemd-analyze"), "verify", path], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(result.stderr.strip(), "")

    def test_hardening(self):
        settings = {}
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                if "=" in line and not line.startswith("#"):
                    key, value = line.rstrip("\n").split("=", 1)
                    settings.setdefault(key, []).append(value)
        expected = {
            "DynamicUser": ["yes"], "AmbientCapabilities": ["CAP_NET_RAW"], "CapabilityBoundingSet": ["CAP_NET_RAW"],
            "NoNewPrivileges": ["yes"], "ProtectSystem": ["strict"], "ReadOnlyPaths": ["-/run/flannel"],
            "EnvironmentFile": ["-/etc/default/podpath-exporter"],
        }
        for key, value in expected.items():
            self.assertEqual(settings.get(key), value, key)
        self.assertTrue(settings["ExecStart"][0].startswith("/usr/local/bin/podpath-exporter "))
        self.assertIn("$PODPATH_EXPORTER_ARGS", settings["ExecStart"][0])
        with open(os.path.join(DEPLOY, "systemd", "podpath-exporter.env"), encoding="utf-8") as handle:
            self.assertIn("PODPATH_EXPORTER_ARGS=", handle.read())


class DockerfileTest(unittest.TestCase):
    def test_multi_stage_non_root(self):
        with open(os.path.join(DEPLOY, "docker", "Dockerfile"), encoding="utf-8") as handle:
            text = re.sub(r"\\\n", " ", handle.read())
        stages = re.findall(r"^FROM (\S+)(?: AS (\S+))?", text, flags=re.M)
        self.assertEqual(stages, [("debian:12", "build"), ("debian:12-slim", "")])
        build, runtime = re.split(r"^FROM debian:12-slim", text, flags=re.M)
        self.assertIn("cmake --build", build)
        self.assertRegex(build, r"libnl-route-3-dev")
        self.assertNotRegex(runtime, r"-dev\b", "the runtime stage installs no -dev package")
        self.assertRegex(runtime, r"COPY --from=build \S+ /usr/local/bin/podpath-exporter")
        self.assertRegex(runtime, r"setcap cap_net_raw\+ep /usr/local/bin/podpath-exporter")
        user = re.findall(r"^USER (\S+)", runtime, flags=re.M)
        self.assertEqual(len(user), 1)
        self.assertNotIn(user[0].split(":")[0], ("0", "root"))
        self.assertIn('ENTRYPOINT ["/usr/local/bin/podpath-exporter"]', runtime)
        # The uid matches the DaemonSet's runAsUser.
        daemonset = only(kustomize(os.path.join(DEPLOY, "kubernetes")), "DaemonSet")
        uid = daemonset["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        self.assertEqual(user[0], "{0}:{0}".format(uid))


if __name__ == "__main__":
    unittest.main(verbosity=2)
