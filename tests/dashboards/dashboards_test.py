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


def is_matrix(panel):
    return any(t["id"] == "groupingToMatrix" for t in panel.get("transformations", []))


def steps_of(panel):
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    return [(step["value"], step["color"]) for step in defaults.get("thresholds", {}).get("steps", [])]


def override(panel, name, prop):
    for item in panel.get("fieldConfig", {}).get("overrides", []):
        if item["matcher"] == {"id": "byName", "options": name}:
            for entry in item["properties"]:
                if entry["id"] == prop:
                    return entry["value"]
    return None


def config():
    import yaml

    with open(os.path.join(dq.ROOT, "alerts", "config.yaml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def alert_expr(name):
    import yaml

    with open(os.path.join(dq.ROOT, "alerts", "podpath.rules.yml"), encoding="utf-8") as handle:
        rules = yaml.safe_load(handle)
    return next(rule["expr"] for group in rules["groups"] for rule in group["rules"] if rule.get("alert") == name)


class ThresholdsTest(unittest.TestCase):
    def test_latency_colours_are_the_alerts_bounds(self):
        latency = config()["latency"]
        same, cross = latency["same_group_ms"] / 1000, latency["cross_group_ms"] / 1000
        seen = 0
        for name, dashboard in DASHBOARDS.items():
            for panel in dq.panels(dashboard):
                defaults = panel.get("fieldConfig", {}).get("defaults", {})
                if defaults.get("unit") != "s" or "thresholds" not in defaults:
                    continue
                seen += 1
                where = f"{name}: {panel['title']}"
                steps = [value for value, _ in steps_of(panel)]
                text = "\n".join(t["expr"] for t in panel["targets"])
                if is_matrix(panel):
                    # One kind of pair per matrix, red at the bound PodpathPeerLatencyHigh gives it.
                    self.assertTrue('same_group="true"' in text or 'same_group="false"' in text, where)
                    bound = same if 'same_group="true"' in text else cross
                    self.assertEqual(steps_of(panel), [(None, "green"), (bound, "red")], where)
                else:
                    self.assertEqual(steps, [None, same, cross], where)
        self.assertGreaterEqual(seen, 4)

    def test_latency_matrices_split_pairs_like_the_alert(self):
        expr = alert_expr("PodpathPeerLatencyHigh")
        latency = config()["latency"]
        self.assertIn(f'same_group="true"}} > {latency["same_group_ms"] / 1000!r}', expr)
        self.assertIn(f'same_group="false"}} > {latency["cross_group_ms"] / 1000!r}', expr)
        overview = DASHBOARDS["podpath-overview.json"]
        # The median reads the classic buckets or the native histogram: each half selects it.
        kinds = sorted(" ".join(sorted(set(re.findall(r'same_group="(\w+)"', p["targets"][0]["expr"]))))
                       or "every pair"
                       for p in dq.panels(overview) if is_matrix(p) and p["fieldConfig"]["defaults"]["unit"] == "s")
        self.assertEqual(kinds, ["false", "true"])

    def test_loss_red_is_the_unreachable_alert(self):
        expr = alert_expr("PodpathPeerUnreachable")
        bound = float(re.search(r'\{target="overlay"\} >= ([0-9.]+)', expr).group(1))
        overview = DASHBOARDS["podpath-overview.json"]
        loss = [p for p in dq.panels(overview)
                if is_matrix(p) and p["fieldConfig"]["defaults"]["unit"] == "percentunit"]
        self.assertEqual(len(loss), 1)
        steps = steps_of(loss[0])
        self.assertEqual(steps[-1], (bound, "red"))
        self.assertEqual(steps[0], (None, "green"))

    def test_mtus_are_plain_bytes(self):
        scaling = re.compile(r"^(dec)?[kmgtp]?(bytes|bits)$|^bytes$|^[KMGTP]?i?B$")
        seen = 0
        for name, dashboard in DASHBOARDS.items():
            for panel in dq.panels(dashboard):
                where = f"{name}: {panel['title']}"
                units = [panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")]
                units += [entry["value"] for item in panel.get("fieldConfig", {}).get("overrides", [])
                          for entry in item["properties"] if entry["id"] == "unit"]
                for unit in units:
                    self.assertFalse(scaling.match(unit or ""), f"{where}: unit {unit} scales 1450 to kB")
                exprs_ = [t.get("expr", "") for t in panel.get("targets", [])]
                if exprs_ and all("_mtu_bytes" in e and "changes(" not in e for e in exprs_):
                    seen += 1
                    self.assertEqual(units[0], "suffix:B", where)
                    self.assertEqual(panel["fieldConfig"]["defaults"].get("decimals"), 0, where)
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
        self.assertEqual(len(matrices), 3, "RTT within and across groups and loss, node × peer")
        for panel in matrices:
            options = next(t["options"] for t in panel["transformations"] if t["id"] == "groupingToMatrix")
            self.assertEqual((options["rowField"], options["columnField"]), ("node", "peer"))

    def test_road_per_pair_colours_every_transport(self):
        with open(os.path.join(dq.ROOT, "docs", "metrics", "analysis.md"), encoding="utf-8") as handle:
            contract = re.search(r"`transport` \(([^)]*)\)", handle.read()).group(1)
        transports = re.findall(r"`([a-z-]+)`", contract)
        self.assertIn("tailscale-derp", transports)
        road = next(p for p in dq.panels(DASHBOARDS["podpath-overview.json"]) if p["title"] == "Road per pair")
        self.assertIn("podpath_peer_path_info", road["targets"][0]["expr"])
        mappings = override(road, "Transport", "mappings")
        self.assertIsNotNone(mappings, "Transport column has value mappings")
        colours = {value: result["color"] for m in mappings for value, result in m["options"].items()}
        self.assertEqual(sorted(colours), sorted(transports), "every transport of the contract is mapped")
        self.assertEqual(colours["tailscale-derp"], "red")
        self.assertEqual(colours["tailscale-peer-relay"], "orange")
        self.assertEqual((colours["tailscale-direct"], colours["lan"]), ("green", "green"))
        self.assertEqual(override(road, "Transport", "custom.cellOptions")["type"], "color-background")
        columns = road["transformations"][0]["options"]["renameByName"]
        for label in ("node", "peer", "carrier", "device", "underlay_device", "transport", "derp_region"):
            self.assertIn(label, columns)

    def test_node_detail_over_time(self):
        node = DASHBOARDS["podpath-node.json"]
        text = "\n".join(exprs(node))
        self.assertIn("sum by (peer, target, family, le)", text, "RTT per peer, target and family")
        self.assertIn('source="probed"', text)
        self.assertIn("podpath_peer_path_mtu_bytes{", text)
        self.assertIn("changes(", text)
        self.assertIn("count_over_time(podpath_peer_path_info", text)
        variables = {v["name"]: v for v in node["templating"]["list"]}
        self.assertFalse(variables["node"].get("multi"), "the node detail shows one node")


if __name__ == "__main__":
    unittest.main(verbosity=2)
