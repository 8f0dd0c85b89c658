#!/usr/bin/env python3
"""The latency bounds live twice: in alerts/config.yaml (PodpathPeerLatencyHigh) and in the
exporter's defaults (--analysis.same-group-rtt / --analysis.cross-group-rtt, which decide the
doctor's and the status page's latency-high finding). An operator who sees the alert must see
the finding too, so this fails as soon as the two disagree.

  bounds_agree_test.py PODPATH_EXPORTER ALERTS_CONFIG
"""
import re
import subprocess
import sys

import yaml

UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def default_seconds(help_text, flag):
    match = re.search(re.escape(flag) + r" DURATION=([0-9.]+)([a-z]+)", help_text)
    if not match:
        sys.exit(f"FAIL: {flag} has no duration default in --help")
    return float(match.group(1)) * UNITS[match.group(2)]


def main():
    exporter, config_path = sys.argv[1], sys.argv[2]
    help_text = subprocess.run([exporter, "--help"], check=True, capture_output=True,
                               text=True).stdout
    latency = yaml.safe_load(open(config_path, encoding="utf-8"))["latency"]
    failures = 0
    for flag, key in (("--analysis.same-group-rtt", "same_group_ms"),
                      ("--analysis.cross-group-rtt", "cross_group_ms")):
        exporter_ms = default_seconds(help_text, flag) * 1000
        alert_ms = float(latency[key])
        verdict = "ok" if abs(exporter_ms - alert_ms) < 1e-9 else "FAIL"
        failures += verdict != "ok"
        print(f"{verdict}: {flag} default {exporter_ms:g} ms, alerts/config.yaml latency.{key} "
              f"{alert_ms:g} ms")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
