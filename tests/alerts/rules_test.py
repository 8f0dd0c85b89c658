#!/usr/bin/env python3
"""Unit tests of the rule generator (alerts/rules.py) and of the runbook it links to."""

import copy
import os
import re
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "alerts"))
import rules  # noqa: E402

CONFIG = rules.load_config(os.path.join(ROOT, "alerts", "config.yaml"))


def alerts_of(data):
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


class DurationTest(unittest.TestCase):
    def test_round_trip(self):
        for text, seconds in (("30s", 30), ("5m", 300), ("1h30m", 5400), ("1d", 86400), ("2m5s", 125)):
            self.assertEqual(rules.parse_duration(text), seconds)
            self.assertEqual(rules.format_duration(seconds), text)

    def test_rejects_garbage(self):
        for text in ("", "5", "5 m", "m5", "1.5m", "-1m"):
            with self.assertRaises(ValueError, msg=text):
                rules.parse_duration(text)


class BuildTest(unittest.TestCase):
    def test_every_alert_follows_the_mixin_conventions(self):
        built = alerts_of(rules.build_rules(CONFIG))
        self.assertEqual(sorted({a["alert"] for a in built}), sorted(rules.ALERT_NAMES))
        for alert in built:
            name = alert["alert"]
            self.assertRegex(name, r"^Podpath[A-Z][A-Za-z]+$")
            self.assertEqual(alert["for"], CONFIG["alerts"][name]["for"])
            self.assertIn(alert["labels"]["severity"], ("critical", "warning", "info"))
            self.assertNotIn("{{", alert["annotations"]["summary"], f"{name}: summary must be static")
            self.assertIn("{{", alert["annotations"]["description"], f"{name}: description must be templated")
            self.assertTrue(alert["annotations"]["runbook_url"].endswith("#" + name.lower()))
            if name != "PodpathExporterDown":  # the only alert whose exporter may be gone
                self.assertIn("group_left (node)\n  podpath_node_info", alert["expr"])
                self.assertIn("{{ $labels.node }}", alert["annotations"]["description"])

    def test_exposure_and_unreachable_page(self):
        severity = {a["alert"]: a["labels"]["severity"] for a in alerts_of(rules.build_rules(CONFIG))}
        self.assertEqual(severity["PodpathVXLANPublicExposed"], "critical")
        self.assertEqual(severity["PodpathPeerUnreachable"], "critical")

    def test_thresholds_come_from_the_config(self):
        config = copy.deepcopy(CONFIG)
        config["latency"] = {"same_group_ms": 5, "cross_group_ms": 50}
        config["exporter_job_selector"] = 'job="podpath-exporter"'
        built = {a["alert"]: a for a in alerts_of(rules.build_rules(config))}
        latency = built["PodpathPeerLatencyHigh"]
        self.assertIn('same_group="true"} > 0.005', latency["expr"])
        self.assertIn('same_group="false"} > 0.05', latency["expr"])
        self.assertIn("above the 5 ms", latency["annotations"]["description"])
        self.assertIn("above the 50 ms", latency["annotations"]["description"])
        self.assertEqual(built["PodpathExporterDown"]["expr"].count('up{job="podpath-exporter"} == 0'), 2)

    def test_window_names_the_recording_rules(self):
        config = copy.deepcopy(CONFIG)
        config["window"] = "2m"
        data = rules.build_rules(config)
        records = [r["record"] for r in data["groups"][0]["rules"] if "record" in r]
        self.assertIn("podpath:probe_rtt_seconds:median2m", records)
        self.assertIn("podpath:probe_loss_ratio:rate2m", records)
        self.assertIn("podpath:probe_loss_ratio:rate1m", records)  # unreachable_window
        for rule in data["groups"][0]["rules"]:
            self.assertNotIn("5m]", rule["expr"])

    def test_lab_transform_only_shortens_for(self):
        normal = alerts_of(rules.build_rules(CONFIG))
        lab = alerts_of(rules.build_rules(CONFIG, for_divisor=60))
        for before, after in zip(normal, lab):
            self.assertEqual(before["expr"], after["expr"])
            self.assertEqual(before["annotations"], after["annotations"])
            self.assertEqual(before["labels"], after["labels"])
            expected = max(1, rules.parse_duration(before["for"]) // 60)
            self.assertEqual(rules.parse_duration(after["for"]), expected)
        self.assertEqual({a["alert"]: a["for"] for a in lab}["PodpathPeerLatencyHigh"], "15s")

    def test_bad_configs_are_refused_with_the_key(self):
        cases = []
        missing = copy.deepcopy(CONFIG)
        del missing["alerts"]["PodpathFlannelDrift"]
        cases.append((missing, "PodpathFlannelDrift"))
        severity = copy.deepcopy(CONFIG)
        severity["alerts"]["PodpathRouteViaDERP"]["severity"] = "page"
        cases.append((severity, "PodpathRouteViaDERP.severity"))
        inverted = copy.deepcopy(CONFIG)
        inverted["latency"] = {"same_group_ms": 200, "cross_group_ms": 100}
        cases.append((inverted, "same_group_ms <= cross_group_ms"))
        duration = copy.deepcopy(CONFIG)
        duration["alerts"]["PodpathExporterDown"]["for"] = "five minutes"
        cases.append((duration, "five minutes"))
        for config, message in cases:
            with self.assertRaises(ValueError, msg=message) as raised:
                rules.build_rules(config)
            self.assertIn(message, str(raised.exception))

    def test_render_is_deterministic_and_parses_back(self):
        import yaml

        data = rules.build_rules(CONFIG)
        text = rules.render(data)
        self.assertEqual(text, rules.render(rules.build_rules(CONFIG)))
        self.assertEqual(yaml.safe_load(text), data)


class RunbookTest(unittest.TestCase):
    def test_every_alert_has_a_runbook_section(self):
        with open(os.path.join(ROOT, "docs", "runbook.md"), encoding="utf-8") as handle:
            runbook = handle.read()
        # GitHub's anchor of "## PodpathPeerLatencyHigh" is "podpathpeerlatencyhigh".
        sections = re.split(r"^## ", runbook, flags=re.M)
        by_anchor = {s.split("\n", 1)[0].strip().lower(): s for s in sections[1:]}
        for alert in alerts_of(rules.build_rules(CONFIG)):
            anchor = alert["annotations"]["runbook_url"].rsplit("#", 1)[1]
            self.assertIn(anchor, by_anchor, f"docs/runbook.md lacks '## {alert['alert']}'")
            section = by_anchor[anchor]
            for part in ("### Meaning", "### Confirm", "### Fix"):
                self.assertIn(part, section, f"{alert['alert']}: runbook section lacks {part}")


if __name__ == "__main__":
    unittest.main()
