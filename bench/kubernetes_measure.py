#!/usr/bin/env python3
"""Measures podpath's cluster view against the lab's fake Kubernetes API server.

For each cluster size (default 6 and 5000 nodes) it starts the fake API server and a
podpath-exporter with only the kubernetes collector, then prints:
  - time to the first full node list, and the exporter's resident memory (VmRSS, VmHWM)
    once settled, next to the heap the kept node data needs (podpath_kubernetes_kept_bytes);
  - how long each API change takes to show on /metrics: node added / removed
    (podpath_kubernetes_nodes) and this node's group relabelled (podpath_node_info{group},
    which comes from the peer registry's PeerSet, so it times the published peer set);
  - the API server's per-client counters in steady state (one list, one watch expected).

Usage: bench/kubernetes_measure.py --build BUILD_DIR [--sizes 6,5000] [--changes 10]
Exit status 1 when a change took longer than a second or the counters are not 1/1.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from fake_api_admin import admin  # beside this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APISERVER = os.path.join(ROOT, "tests/lab/apiserver/fake-apiserver")
NODES_PY = os.path.join(ROOT, "tests/lab/apiserver/nodes.py")
SELF = "lima-k3s-agent"


def wait_file(path, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def metric(text, pattern):
    m = re.search(pattern, text, re.M)
    return m.group(1) if m else None


def wait_metric(url, pattern, want, timeout=10.0):
    """Seconds until /metrics shows `want` for the pattern's group, else None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if metric(scrape(url), pattern) == want:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.01)
    return None


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])  # kB
    return out


def kept_bytes(build, count):
    synthetic = subprocess.run([NODES_PY, "synthetic", str(count)], capture_output=True,
                               check=True).stdout
    out = subprocess.run([os.path.join(build, "tests/kubernetes/podpath_kubernetes_kept_bytes")],
                         input=synthetic, capture_output=True, check=True).stdout
    return json.loads(out)


def measure(build, size, changes):
    state = tempfile.mkdtemp(prefix="podpath-measure-")
    server = exporter = None
    try:
        server = subprocess.Popen(
            [APISERVER, "--state-dir", state, "--listen", "127.0.0.1:0",
             "--synthetic", str(max(0, size - 6))],
            stdout=open(os.path.join(state, "server.log"), "w"), stderr=subprocess.STDOUT)
        if not wait_file(os.path.join(state, "server.json"), 120):
            raise RuntimeError("fake-apiserver did not start")
        info = json.load(open(os.path.join(state, "server.json")))
        sock = info["admin_socket"]

        log_path = os.path.join(state, "exporter.log")
        started = time.monotonic()
        exporter = subprocess.Popen(
            [os.path.join(build, "exporter/podpath-exporter"), "--kubeconfig",
             os.path.join(state, "kubeconfig"), "--node-name", SELF,
             "--web.listen-address", "127.0.0.1:0", "--no-collector.netlink",
             "--no-collector.flannel", "--no-collector.tailscale", "--no-collector.prober"],
            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        url = None
        for _ in range(500):
            m = re.search(r"metrics=(http://\S+)", open(log_path).read())
            if m:
                url = m.group(1)
                break
            time.sleep(0.02)
        if url is None:
            raise RuntimeError("exporter did not start: " + open(log_path).read())
        synced = wait_metric(url, r"^podpath_kubernetes_nodes (\d+)", str(size), timeout=120)
        if synced is None:
            raise RuntimeError("exporter never listed %d nodes: %s" % (size, open(log_path).read()))
        synced = time.monotonic() - started
        time.sleep(3)  # settle: the first publish and scrape buffers
        memory = proc_status(exporter.pid)

        latencies = {"added": [], "removed": [], "regrouped": []}
        count = size
        for i in range(changes):
            admin(sock, "/nodes/add", {"count": 1})
            count += 1
            latencies["added"].append(
                wait_metric(url, r"^podpath_kubernetes_nodes (\d+)", str(count)))
            group = "group-%d" % i
            admin(sock, "/nodes/label",
                  {"name": SELF, "labels": {"topology.kubernetes.io/zone": group}})
            latencies["regrouped"].append(
                wait_metric(url, r'^podpath_node_info\{group="([^"]*)"', group))
            admin(sock, "/nodes/remove", {"count": 1})
            count -= 1
            latencies["removed"].append(
                wait_metric(url, r"^podpath_kubernetes_nodes (\d+)", str(count)))
        after = proc_status(exporter.pid)
        stats = admin(sock, "/stats")["clients"].get("127.0.0.1", {})
        return {"size": size, "synced_s": synced, "memory": memory, "memory_after": after,
                "latencies": latencies, "stats": stats}
    finally:
        for p in (exporter, server):
            if p is not None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(state, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="CMake build directory")
    parser.add_argument("--sizes", default="6,5000")
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args()
    ok = True
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        r = measure(args.build, size, args.changes)
        r["kept"] = kept_bytes(args.build, size)
        results.append(r)

    print("nodes  first-list  VmRSS    VmHWM    RSS-after-churn  kept-heap(watcher+registry)  "
          "list watch list_pages")
    for r in results:
        kept = r["kept"]["watcher_bytes"] + r["kept"]["registry_bytes"]
        s = r["stats"]
        print("%5d  %8.2fs  %5.1f MB %5.1f MB %8.1f MB        %6.2f MB                    %4s %5s %6s" % (
            r["size"], r["synced_s"], r["memory"]["VmRSS"] / 1024, r["memory"]["VmHWM"] / 1024,
            r["memory_after"]["VmRSS"] / 1024, kept / 1e6, s.get("list"), s.get("watch"),
            s.get("list_pages")))
        if s.get("list") != 1 or s.get("watch") != 1:
            ok = False
    if len(results) >= 2:
        small, large = results[0], results[-1]
        delta = (large["memory"]["VmRSS"] - small["memory"]["VmRSS"]) / 1024
        kept_delta = ((large["kept"]["watcher_bytes"] + large["kept"]["registry_bytes"]) -
                      (small["kept"]["watcher_bytes"] + small["kept"]["registry_bytes"])) / 1e6
        print("RSS %d nodes - RSS %d nodes = %.1f MB; kept node data needs %.1f MB" % (
            large["size"], small["size"], delta, kept_delta))
    print()
    print("change -> /metrics (s)     p50     max   (n=%d each)" % args.changes)
    for r in results:
        for kind, values in r["latencies"].items():
            if any(v is None for v in values):
                print("%5d nodes %-10s  MISSED %d changes" % (
                    r["size"], kind, sum(v is None for v in values)))
                ok = False
                continue
            print("%5d nodes %-10s  %6.3f  %6.3f" % (r["size"], kind, statistics.median(values),
                                                     max(values)))
            if max(values) > 1.0:
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
