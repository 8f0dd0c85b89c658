#!/usr/bin/env python3
"""Structural checks of the generated dashboards (dashboards/podpath-*.json): the
monitoring-mixins conventions (fixed uid, datasource variable, units on every panel,
$__rate_interval) and what the two dashboards must show."""

import os
import re
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_queries as dq  # noqa: E402

DASHBOARDS = {os.path.basename(path): dashboard for path, dashboard in dq.load([])}
RANGE_FUNCTIONS = re.compile(r"\b(rate|irate|increase|delta|idelta|deriv)\s*\(")


def exprs(dashboard):
    return [expr for _, _, expr, _ in dq.targets(dashboard)]


class ConventionsTest(unittest.TestCase):
    def test_the_two_dashboards(self):
        self.assertEqual(sorted(DASHBOARDS), ["podpath-node.json", "podpath-overview.json"])

    def test_fixed_uid_matches_the_file(self):
        for name, dashboard in DASHBOARDS.items():
            self.assertEqual(dashboard["uid"] + ".json", name)
            self.assertEqual(dashboard.get("id"), None, f"{name}: no instance-specific id")
            self.assertGreaterEqual(dashboard["schemaVersion"], 39)
            self.assertIn("podpath", dashboard["tags"])

    def test_variables(self):
        for name, dashboard in DASHBOARDS.items():
            variables = {v["name"]: v for v in dashboard["templating"]["list"]}
            self.assertEqual(variables["datasource"]["type"], "datasource", name)
            self.assertEqual(variables["datasource"]["query"], "prometheus", name)
            for wanted in ("job", "node", "peer"):
                self.assertIn(wanted, variables, f"{name}: ${wanted}")
                self.assertEqual(variables[wanted]["datasource"]["uid"], "${datasource}")
            self.assertTrue(variables["peer"]["multi"] and variables["peer"]["includeAll"])

    def test_every_panel_has_a_unit_and_the_datasource_variable(self):
        for name, dashboard in DASHBOARDS.items():
            for panel in dq.panels(dashboard):
                if panel["type"] == "row":
                    continue
                where = f"{name}: {panel['title']!r}"
                self.assertTrue(panel.get("fieldConfig", {}).get("defaults", {}).get("unit"), f"{where}: no unit")
                self.assertEqual(panel["datasource"]["uid"], "${datasource}", where)
                self.assertTrue(panel.get("description"), f"{where}: no description")
                refs = [t["refId"] for t in panel["targets"]]
                self.assertTrue(refs, f"{where}: no query")
                self.assertEqual(len(refs), len(set(refs)), f"{where}: duplicate refIds")
                for target in panel["targets"]:
                    self.assertEqual(target["datasource"]["uid"], "${datasource}", where)

    def test_rates_use_rate_interval(self):
        for name, dashboard in DASHBOARDS.items():
            for title, ref, expr, _ in dq.targets(dashboard):
                for match in RANGE_FUNCTIONS.finditer(expr):
                    window = re.search(r"\[([^\]]+)\]", expr[match.end():])
                    self.assertIsNotNone(window, f"{name} {title} {ref}")
                    self.assertEqual(window.group(1), "$__rate_interval", f"{name} {title} {ref}: {expr}")

    def test_panels_do_not_overlap(self):
        for name, dashboard in DASHBOARDS.items():
            taken = set()
            for panel in dq.panels(dashboard):
                grid = panel["gridPos"]
                self.assertLessEqual(grid["x"] + grid["w"], 24, f"{name}: {panel['title']}")
                cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                         for y in range(grid["y"], grid["y"] + grid["h"])}
                self.assertFalse(cells & taken, f"{name}: {panel['title']} overlaps")
                taken |= cells

    def test_variables_are_all_defined(self):
        for name, dashboard in DASHBOARDS.items():
            values = dq.builtins()
            values.update({v["name"]: "x" for v in dashboard["templating"]["list"]})
            for _, _, expr, _ in dq.targets(dashboard):
                dq.substitute(expr, values)  # raises KeyError on an unknown variable


class ThresholdsTest(unittest.TestCase):
    def test_latency_colours_are_the_alerts_bounds(self):
        import yaml

        with open(os.path.join(dq.ROOT, "alerts", "config.yaml"), encoding="utf-8") as handle:
            latency = yaml.safe_load(handle)["latency"]
        expected = [None, latency["same_group_ms"] / 1000, latency["cross_group_ms"] / 1000]
        seen = 0
        for name, dashboard in DASHBOARDS.items():
            for panel in dq.panels(dashboard):
                defaults = panel.get("fieldConfig", {}).get("defaults", {})
                if defaults.get("unit") == "s" and "thresholds" in defaults:
                    seen += 1
                    steps = [step["value"] for step in defaults["thresholds"]["steps"]]
                    self.assertEqual(steps, expected, f"{name}: {panel['title']}")
        self.assertGreaterEqual(seen, 3)


class ContentTest(unittest.TestCase):
    def test_overview_shows_every_pair(self):
        overview = DASHBOARDS["podpath-overview.json"]
        text = "\n".join(exprs(overview))
        for needle in ("podpath_probe_rtt_seconds_bucket", "podpath_probe_requests_total",
                       "podpath_probe_responses_total", "podpath_peer_path_info", "podpath_peer_path_mtu_bytes",
                       "podpath_vxlan_exposed", "podpath_peer_route_via_derp", 'ALERTS{alertname=~"Podpath.*"',
                       "podpath_flannel_annotation_info"):
            self.assertIn(needle, text)
        matrices = [p for p in dq.panels(overview)
                    if any(t["id"] == "groupingToMatrix" for t in p.get("transformations", []))]
        self.assertEqual(len(matrices), 2, "latency and loss matrices, node × peer")
        for panel in matrices:
            options = next(t["options"] for t in panel["transformations"] if t["id"] == "groupingToMatrix")
            self.assertEqual((options["rowField"], options["columnField"]), ("node", "peer"))

    def test_node_detail_over_time(self):
        node = DASHBOARDS["podpath-node.json"]
        text = "\n".join(exprs(node))
        self.assertIn("sum by (peer, target, le)", text, "RTT per peer and target")
        self.assertIn('source="probed"', text)
        self.assertIn("podpath_peer_path_mtu_bytes{", text)
        self.assertIn("changes(", text)
        self.assertIn("count_over_time(podpath_peer_path_info", text)
        variables = {v["name"]: v for v in node["templating"]["list"]}
        self.assertFalse(variables["node"].get("multi"), "the node detail shows one node")


if __name__ == "__main__":
    unittest.main(verbosity=2)
