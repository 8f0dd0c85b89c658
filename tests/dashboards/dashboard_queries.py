#!/usr/bin/env python3
"""The PromQL queries of podpath's dashboards, with Grafana's variables substituted.

    dashboard_queries.py parse [DASHBOARD.json ...]
        Every panel and variable query as a recording rule in a temporary rule file, checked
        with `promtool check rules`: Prometheus' own parser decides (promtool 2.42 has no
        "parse this expression" command). Variables get placeholder values.

    dashboard_queries.py lab-check [--allow-empty TITLE_REGEX] [--var NAME=VALUE]
                                   [--rate-interval 1m] [--range 1h] PROMETHEUS_URL [DASHBOARD.json ...]
        Resolves the dashboards' variables against a live Prometheus the way Grafana does
        (label_values through the series API; multi-valued ones select All = ".*", single
        ones their first value), then runs every panel query (instant or range, as the panel
        does) and fails on any error or empty result. tests/dashboards/lab_check.sh wraps it.

Only the Python standard library and promtool are needed.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<selector>.*?)\s*,\s*)?"
                          r"(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def load(paths):
    if not paths:
        paths = sorted(glob.glob(os.path.join(ROOT, "dashboards", "podpath-*.json")))
    dashboards = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            dashboards.append((path, json.load(handle)))
    return dashboards


def panels(dashboard):
    """Every panel, those nested in collapsed rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []):
            yield inner


def targets(dashboard):
    """(panel title, refId, expr, instant) for every panel query."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield panel.get("title", ""), target.get("refId", ""), target["expr"], bool(target.get("instant"))


def query_variables(dashboard):
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            text = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            yield variable, text


def substitute(expr, values):
    """expr with every $var / ${var} / [[var]] replaced; unknown variables raise KeyError."""

    def replace(match):
        name = next(group for group in match.groups() if group)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in: {expr}")
        return values[name]

    return VARIABLE.sub(replace, expr)


def builtins(rate_interval="1m", range_="1h"):
    return {"__rate_interval": rate_interval, "__interval": "30s", "__range": range_,
            "__range_s": str(parse_seconds(range_)), "datasource": "prometheus"}


def parse_seconds(duration):
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", duration))


def variable_selector(text):
    """The series selector a label_values() variable query asks for (None: all series)."""
    match = LABEL_VALUES.match(text)
    if not match:
        raise ValueError(f"variable query is not label_values(...): {text}")
    return match.group("selector"), match.group("label")


# ---- parse


def parse(paths):
    rules, origins = [], []
    for path, dashboard in load(paths):
        values = builtins()
        for variable, _ in query_variables(dashboard):
            values[variable["name"]] = ".*" if variable.get("multi") or variable.get("includeAll") else "placeholder"
        for variable, text in query_variables(dashboard):
            selector, _ = variable_selector(text)
            if selector:
                origins.append(f"{os.path.basename(path)}: variable {variable['name']}")
                rules.append(substitute(selector, values))
        for title, ref, expr, _ in targets(dashboard):
            origins.append(f"{os.path.basename(path)}: panel {title!r} query {ref}")
            rules.append(substitute(expr, values))
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "dashboard-queries.rules.yml")
        with open(path, "w", encoding="utf-8") as handle:
            # JSON is YAML: no quoting surprises for the expressions.
            json.dump({"groups": [{"name": "dashboard_queries", "rules": [
                {"record": f"dashboard_query_{index}", "expr": expr} for index, expr in enumerate(rules)]}]},
                handle, indent=1)
        result = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        for index, origin in enumerate(origins):  # name the culprits, not rule indexes
            output = output.replace(f"dashboard_query_{index}", f"{origin}")
        print(output, file=sys.stderr)
        return 1
    print(f"{len(rules)} dashboard queries parse (panels and variables of {len(load(paths))} dashboards)")
    return 0


# ---- lab-check


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, params):
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.load(error)
        if body.get("status") != "success":
            raise RuntimeError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]


def resolve(prometheus, dashboard, overrides, now, range_seconds):
    values = {}
    for variable, text in query_variables(dashboard):
        name = variable["name"]
        if name in overrides:
            values[name] = overrides[name]
            continue
        selector, label = variable_selector(text)
        selector = substitute(selector, {**values, **builtins()}) if selector else None
        params = {"start": now - range_seconds, "end": now}
        if selector:
            series = prometheus.get("/api/v1/series", {**params, "match[]": selector})
            found = sorted({s[label] for s in series if label in s})
        else:
            found = sorted(prometheus.get(f"/api/v1/label/{label}/values", params))
        if not found:
            raise RuntimeError(f"variable ${name} has no values ({text})")
        if variable.get("includeAll") and variable.get("allValue"):
            values[name] = variable["allValue"]
        elif variable.get("multi") or variable.get("includeAll"):
            values[name] = "(" + "|".join(re.escape(v) for v in found) + ")"
        else:
            values[name] = found[0]
        print(f"  ${name} = {values[name]}  ({len(found)} values)")
    return values


def lab_check(args):
    prometheus = Prometheus(args.url)
    overrides = dict(item.split("=", 1) for item in args.var)
    allow_empty = [re.compile(pattern) for pattern in args.allow_empty]
    range_seconds = parse_seconds(args.range)
    now = time.time()
    failures, checked = [], 0
    for path, dashboard in load(args.dashboards):
        print(f"{os.path.basename(path)} ({dashboard.get('title')}):")
        try:
            values = resolve(prometheus, dashboard, overrides, now, range_seconds)
        except RuntimeError as error:
            failures.append(f"{os.path.basename(path)}: {error}")
            continue
        values.update(builtins(args.rate_interval, args.range))
        for title, ref, expr, instant in targets(dashboard):
            checked += 1
            query = substitute(expr, values)
            where = f"{os.path.basename(path)}: panel {title!r} query {ref}"
            try:
                if instant:
                    data = prometheus.get("/api/v1/query", {"query": query, "time": now})
                else:
                    step = max(1, range_seconds // 250)
                    data = prometheus.get("/api/v1/query_range",
                                          {"query": query, "start": now - range_seconds, "end": now, "step": step})
            except RuntimeError as error:
                failures.append(f"{where}: {error}\n    {query}")
                continue
            empty = data["resultType"] in ("vector", "matrix") and not data["result"]
            if empty and any(pattern.search(title) for pattern in allow_empty):
                print(f"  empty (allowed): {title!r} {ref}")
            elif empty:
                failures.append(f"{where}: no data\n    {query}")
            else:
                series = len(data['result']) if isinstance(data['result'], list) else 1
                print(f"  ok: {title!r} {ref} ({series} series)")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print(f"{checked} panel queries, {len(failures)} failures")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    parse_cmd = sub.add_parser("parse")
    parse_cmd.add_argument("dashboards", nargs="*")
    check_cmd = sub.add_parser("lab-check")
    check_cmd.add_argument("url")
    check_cmd.add_argument("dashboards", nargs="*")
    check_cmd.add_argument("--allow-empty", action="append", default=[], metavar="TITLE_REGEX",
                           help="panels whose empty result is legitimate (e.g. 'Firing podpath alerts')")
    check_cmd.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                           help="fix a variable instead of resolving it")
    check_cmd.add_argument("--rate-interval", default="1m", help="value of $__rate_interval (4 scrape intervals)")
    check_cmd.add_argument("--range", default="1h", help="dashboard time range, value of $__range")
    args = parser.parse_args()
    if args.command == "parse":
        return parse(args.dashboards)
    return lab_check(args)


if __name__ == "__main__":
    sys.exit(main())
