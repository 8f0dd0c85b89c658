#!/usr/bin/env python3
"""What one podpath-exporter costs on a node of a 10- to 5,000-node cluster (issue #17, "Scale").

For each size N it builds a network namespace of its own and runs in it the lab's fake API
server with N synthetic k3s nodes, labelled in zones (topology.kubernetes.io/zone), and ONE
real podpath-exporter with its default flags (every collector but tailscale; --node-name is
the first node). Then it prints one markdown row per N:

  - series per scrape (non-comment lines of the text /metrics; how many carry a `peer`
    label), bytes per scrape (uncompressed text), scrape time (median of --scrapes);
  - probes/s (podpath_probe_requests_total over the interval), CPU % of one core
    (utime + stime of /proc/PID/stat over --seconds, a Prometheus-like scrape every
    --scrape-interval included), private memory (smaps_rollup Private_Clean +
    Private_Dirty; Pss and Rss beside it) after the timing scrapes;
  - API load per node: lists and watches made, watch events and bytes per second over
    the interval while the fake API writes every node's status at kubelet's default rates
    (one write per node every 5 minutes, see fake-apiserver's /kubelets), beside the same
    watch as flannel's kube subnet manager makes it (client-go informer, full Node objects,
    JSON) and a metadata-only watch (as=PartialObjectMetadata);
  - the probe graph of exactly this cluster (build/bench/podpath-scale-bench --stdin):
    in-degree min/median/max, group pairs covered, nodes whose peer set changes after 1 %
    churn.

What the namespace models, and what not:
  - `ip link set lo up` and local routes (table local) for 10.0.0.0/8 (pod subnets and
    their flannel.1 addresses), 100.64.0.0/10 (the nodes' InternalIPs) and 192.168.0.0/16
    (flannel's public-ip): the kernel answers every overlay and underlay echo itself, in
    tens of microseconds, without encapsulation; nothing leaves the namespace (it has no
    other interface than a veth pair eth0 / eth0-far inside it and flannel.1, and no route out).
  - flannel's kernel state for every peer, as flannel's vxlan backend writes it: a
    flannel.1 vxlan device (VNI 1, port 8472, this node's VtepMAC and pod subnet's .0), per
    peer an onlink route to its pod subnet via flannel.1, a permanent neighbour (its .0 ->
    VtepMAC) and an FDB entry (VtepMAC -> public-ip). The netlink collector dumps and reads
    all of it. Route lookups still answer "local" (the local table is consulted first), so
    the analysis may judge roads it would not judge on a real node; no cni0, no pods.
  - /run/flannel/subnet.env: a file in the state directory (--flannel.subnet-file),
    FLANNEL_NETWORK 10.32.0.0/11 (every synthetic /24 is inside it).
  - not modelled: Tailscale, WireGuard devices (the collector finds none), real RTTs and
    loss, the exposure probe (synthetic public addresses are private, so none is sent),
    status changes beyond kubelet's 5-minute report (fake-apiserver /kubelets
    changes_per_hour), the 10 s node Lease renewals (no Node watch sees them), protobuf.

Needs root (network namespaces). The machine's load counts in the CPU and time figures:
the output says what else ran (load average).

Usage: sudo bench/scale.py [--build build] [--sizes 10,100,1000,5000] [--seconds 60]
       [--zones N] [--scrapes 5] [--scrape-interval 15] [--json] [--check]
--check: exit 1 unless every size settled and made exactly one list and one watch (the
ctest smoke `bench_scale_smoke` runs --sizes 10 --seconds 5 --check). Exit 77 when not root.
"""

import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APISERVER = os.path.join(ROOT, "tests/lab/apiserver/fake-apiserver")
sys.path.insert(0, os.path.join(ROOT, "tests/lab/apiserver"))
import nodes as nodegen  # noqa: E402  (the lab's node generator, path set just above)
from fake_api_admin import admin  # noqa: E402  (beside this script)

ZONE_LABEL = "topology.kubernetes.io/zone"
FLANNEL_UA = "scale-bench/flannel-informer"
METADATA_UA = "scale-bench/metadata-only"
KUBELET_REPORT_SECONDS = 300  # kubelet's nodeStatusReportFrequency default
MAX_PEERS = 100  # the exporter's --prober.max-peers default
# The budget of issue #17 for one node of a 5,000-node cluster (default flags).
BUDGET = {"series": 1500, "scrape_kb": 150, "probes": 200, "private_mb": 32, "cpu": 1.0}


# --------------------------------------------------------------------------- layout

def zones_for(size, zones=None):
    """50 zones of 100 at 5,000 nodes; below, 50 zones (at least 2 nodes each) of N/50."""
    if zones is None:
        zones = max(1, min(50, size // 2))
    return zones, math.ceil(size / zones)


def cluster(size, zones):
    """The N Node objects: synthetic k3s nodes, node i in zone i // group size."""
    zones, per_zone = zones_for(size, zones)
    out = []
    for i in range(size):
        node = nodegen.synthetic_node(i)
        node["metadata"]["labels"][ZONE_LABEL] = "zone-%02d" % (i // per_zone)
        out.append(node)
    return out


def pod_cidr(node):
    return node["spec"]["podCIDR"]


def network_address(cidr):
    return cidr.split("/")[0]


def vtep_mac(node):
    return json.loads(node["metadata"]["annotations"]["flannel.alpha.coreos.com/backend-data"])["VtepMAC"]


def public_ip(node):
    return node["metadata"]["annotations"]["flannel.alpha.coreos.com/public-ip"]


# --------------------------------------------------------------------------- namespace

def sh(*cmd, stdin=None):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd[:6]), r.stderr.strip()))
    return r.stdout


def build_namespace(ns, items, self_node):
    """Answering targets and flannel's kernel state for every peer (see the docstring)."""
    sh("ip", "netns", "add", ns)
    me = public_ip(self_node)
    ip = ["link set lo up",
          # The underlay device: a veth whose other end stays in the namespace (no dummy
          # driver everywhere); every address behind it is local, so nothing crosses it.
          "link add eth0 type veth peer name eth0-far",
          "addr add %s/16 dev eth0" % me,
          "link set eth0-far up",
          "link set eth0 up",
          "link add flannel.1 type vxlan id 1 local %s dev eth0 dstport 8472 nolearning" % me,
          "link set flannel.1 mtu 1450 address %s" % vtep_mac(self_node),
          "addr add %s/32 dev flannel.1" % network_address(pod_cidr(self_node)),
          "link set flannel.1 up"]
    fdb = []
    for node in items:
        if node is self_node:
            continue
        cidr, mac = pod_cidr(node), vtep_mac(node)
        gw = network_address(cidr)
        ip.append("route add %s via %s dev flannel.1 onlink" % (cidr, gw))
        ip.append("neigh add %s lladdr %s dev flannel.1 nud permanent" % (gw, mac))
        fdb.append("fdb add %s dev flannel.1 dst %s self permanent" % (mac, public_ip(node)))
    # The local routes last: the kernel refuses an onlink gateway that is a local address
    # when the route is added (and does not check again later).
    ip += ["route add local 10.0.0.0/8 dev lo table local",
           "route add local 100.64.0.0/10 dev lo table local",
           "route add local 192.168.0.0/16 dev lo table local"]
    sh("ip", "-n", ns, "-batch", "-", stdin="\n".join(ip) + "\n")
    if fdb:
        sh("bridge", "-n", ns, "-batch", "-", stdin="\n".join(fdb) + "\n")


def remove_namespace(ns):
    """Ends what still runs in the namespace (only this run's processes live there), then
    deletes it."""
    try:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
    except OSError:
        pids = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(int(pid), sig)
                alive.append(pid)
            except (ProcessLookupError, ValueError):
                pass
        if not alive:
            break
        deadline = time.time() + 5
        while time.time() < deadline and any(os.path.exists("/proc/%s" % p) for p in alive):
            time.sleep(0.1)
        pids = [p for p in alive if os.path.exists("/proc/%s" % p)]
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# --------------------------------------------------------------------------- inside the namespace


def scrape(url):
    """-> (text, seconds): the text exposition, uncompressed."""
    req = urllib.request.Request(url, headers={"Accept": "text/plain;version=0.0.4"})
    start = time.monotonic()
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return body.decode(), time.monotonic() - start


def samples(text, name):
    """(labels text, value) of every sample of the metric `name`."""
    out = []
    for m in re.finditer(r"^%s(\{[^}]*\})? (\S+)" % re.escape(name), text, re.M):
        out.append((m.group(1) or "", float(m.group(2))))
    return out


def value(text, name, labels=""):
    for lab, v in samples(text, name):
        if labels in lab:
            return v
    return None


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def memory(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
                out[key] = int(rest.split()[0])  # kB
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key == "VmHWM":
                out[key] = int(rest.split()[0])
    out["Private"] = out["Private_Clean"] + out["Private_Dirty"]
    return out


class WatchClient(threading.Thread):
    """A list, then a watch that resumes from its last resourceVersion, as client-go's
    reflector does (flannel's informer: list resourceVersion=0, watch with bookmarks and a
    5-10 min timeoutSeconds). The fake API counts its bytes under its User-Agent."""

    def __init__(self, info, token, ca, agent, accept):
        super().__init__(daemon=True)
        self.info, self.token, self.agent, self.accept = info, token, agent, accept
        self.tls = ssl.create_default_context(cadata=ca)
        self.synced = threading.Event()

    def request(self, path):
        conn = http.client.HTTPSConnection("127.0.0.1", self.info["port"], context=self.tls, timeout=900)
        conn.request("GET", path, headers={"Authorization": "Bearer " + self.token, "Accept": self.accept,
                                           "User-Agent": self.agent})
        return conn, conn.getresponse()

    def run(self):
        try:
            # client-go's reflector asks limit=500&resourceVersion=0; kube-apiserver answers a
            # resourceVersion=0 list from its watch cache whole, ignoring the limit. The fake
            # API honours limits, so the whole list is asked for here.
            conn, resp = self.request("/api/v1/nodes?resourceVersion=0")
            rv = json.loads(resp.read())["metadata"]["resourceVersion"]
            conn.close()
            self.synced.set()
            while True:
                conn, resp = self.request(
                    "/api/v1/nodes?allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d&watch=true"
                    % (rv, 300 + int(300 * (os.getpid() % 97) / 97)))
                for line in resp:
                    m = re.search(rb'"resourceVersion":"(\d+)"', line)
                    if m:
                        rv = m.group(1).decode()
                conn.close()
        except (OSError, ValueError, http.client.HTTPException) as e:
            sys.stderr.write("scale: %s watch ended: %s\n" % (self.agent, e))


def inner(config):
    """Runs inside the namespace: fake API, exporter, watch clients; prints one JSON object."""
    state, size, build = config["state"], config["size"], config["build"]
    procs = []
    try:
        server = subprocess.Popen(
            [APISERVER, "--state-dir", state, "--listen", "127.0.0.1:0", "--nodes", config["nodes_file"]],
            stdout=open(os.path.join(state, "server.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(server)
        info_path = os.path.join(state, "server.json")
        deadline = time.time() + 300
        while not os.path.exists(info_path):
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("fake-apiserver did not start: " + open(os.path.join(state, "server.log")).read())
            time.sleep(0.1)
        info = json.load(open(info_path))
        sock = info["admin_socket"]
        admin(sock, "/kubelets", {"report_seconds": KUBELET_REPORT_SECONDS})

        log_path = os.path.join(state, "exporter.log")
        started = time.monotonic()
        exporter = subprocess.Popen(
            [os.path.join(build, "exporter/podpath-exporter"), "--kubeconfig", os.path.join(state, "kubeconfig"),
             "--node-name", config["self"], "--web.listen-address", "127.0.0.1:0", "--no-collector.tailscale",
             "--flannel.subnet-file", os.path.join(state, "subnet.env")],
            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        procs.append(exporter)
        url = None
        while url is None:
            m = re.search(r"metrics=(http://\S+)", open(log_path).read())
            if m:
                url = m.group(1)
            elif exporter.poll() is not None or time.monotonic() - started > 60:
                raise RuntimeError("exporter did not start: " + open(log_path).read())
            else:
                time.sleep(0.05)

        token = open(os.path.join(state, "token")).read().strip()
        ca = open(os.path.join(state, "ca.crt")).read()
        clients = [WatchClient(info, token, ca, FLANNEL_UA, "application/json"),
                   WatchClient(info, token, ca, METADATA_UA,
                               "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
                               "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")]
        for c in clients:
            c.start()

        # Settled: every node known, the probe graph computed and every chosen peer probed.
        want_probed = min(size - 1, MAX_PEERS)
        settled = None
        text = ""
        while time.monotonic() - started < config["settle_timeout"]:
            try:
                text, _ = scrape(url)
            except OSError:
                text = ""
            probed = value(text, "podpath_prober_peers", 'selection="probed"')
            peers = {re.search(r'peer="([^"]*)"', lab).group(1)
                     for lab, v in samples(text, "podpath_probe_requests_total") if v > 0 and 'peer="' in lab}
            if (value(text, "podpath_kubernetes_nodes") == size and probed == want_probed
                    and len(peers) == want_probed):
                settled = time.monotonic() - started
                break
            time.sleep(0.5)
        if settled is None:
            raise RuntimeError("exporter did not settle in %ds (nodes %s, probed %s of %d): %s" % (
                config["settle_timeout"], value(text, "podpath_kubernetes_nodes"),
                value(text, "podpath_prober_peers", 'selection="probed"'), want_probed,
                open(log_path).read()[-3000:]))
        for c in clients:
            c.synced.wait(120)
        time.sleep(5)  # a few probe rounds and the first PMTU searches

        # The interval: CPU, probes and API counters, a scrape every --scrape-interval.
        pid = exporter.pid
        stats0 = admin(sock, "/stats")
        text0, _ = scrape(url)
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        load0 = os.getloadavg()
        end = wall0 + config["seconds"]
        while time.monotonic() + config["scrape_interval"] < end:
            time.sleep(config["scrape_interval"])
            scrape(url)
        time.sleep(max(0.0, end - time.monotonic()))
        text1, _ = scrape(url)
        cpu1, wall1 = cpu_seconds(pid), time.monotonic()
        stats1 = admin(sock, "/stats")
        load1 = os.getloadavg()
        interval = wall1 - wall0
        requests = (sum(v for _, v in samples(text1, "podpath_probe_requests_total"))
                    - sum(v for _, v in samples(text0, "podpath_probe_requests_total")))

        # Scrape cost: --scrapes back to back, then memory (scrape buffers included).
        times, body = [], ""
        for _ in range(config["scrapes"]):
            body, seconds = scrape(url)
            times.append(seconds)
        mem = memory(pid)
        lines = [ln for ln in body.splitlines() if ln and not ln.startswith("#")]
        histograms = set(re.findall(r"^# TYPE (\S+) histogram", body, re.M))
        families = {}
        for ln in lines:
            name = re.match(r"[^{ ]+", ln).group(0)
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            name = base if base in histograms else name
            families[name] = families.get(name, 0) + 1

        def api(agent_prefix):
            def pick(stats):
                for agent, counters in stats["userAgents"].items():
                    if agent.startswith(agent_prefix):
                        return counters
                return {}
            a, b = pick(stats0), pick(stats1)
            return {"agent": next((k for k in stats1["userAgents"] if k.startswith(agent_prefix)), None),
                    "lists": b.get("list", 0), "list_pages": b.get("list_pages", 0),
                    "watches": b.get("watch", 0), "list_bytes": b.get("list_bytes", 0),
                    "events_per_s": (b.get("events", 0) - a.get("events", 0)) / interval,
                    "bookmarks": b.get("bookmarks", 0) - a.get("bookmarks", 0),
                    "watch_bytes_per_s": (b.get("watch_bytes", 0) - a.get("watch_bytes", 0)) / interval}

        return {
            "size": size, "settled_s": settled, "interval_s": interval,
            "series": len(lines), "peer_series": sum(bool(re.search(r'[{,]peer="', ln)) for ln in lines),
            "scrape_bytes": len(body.encode()), "scrape_s": statistics.median(times),
            "scrape_s_all": times,
            "top_families": sorted(families.items(), key=lambda kv: -kv[1])[:8], "probes_per_s": requests / interval,
            "cpu_percent": 100.0 * (cpu1 - cpu0) / interval, "memory_kb": mem,
            "probed": value(body, "podpath_prober_peers", 'selection="probed"'),
            "probed_by": value(body, "podpath_prober_probed_by_nodes"),
            "kubelet_writes": stats1.get("kubeletWrites", 0) - stats0.get("kubeletWrites", 0),
            "node_bytes": config["node_bytes"], "metadata_bytes": config["metadata_bytes"],
            "api": {"podpath": api("podpath"), "flannel": api(FLANNEL_UA), "metadata": api(METADATA_UA)},
            "loadavg": [load0[0], load1[0]], "cpus": os.cpu_count(),
        }
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


# --------------------------------------------------------------------------- outside

def graph_figures(build, items):
    layout = "".join("%s %s\n" % (n["metadata"]["name"], n["metadata"]["labels"].get(ZONE_LABEL, ""))
                     for n in items)
    out = subprocess.run([os.path.join(build, "bench/podpath-scale-bench"), "--stdin"], input=layout,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def measure(args, size):
    items = cluster(size, args.zones)
    self_node = items[0]
    ns = "podpath-scale-%d-%d" % (os.getpid(), size)
    state = tempfile.mkdtemp(prefix="podpath-scale-")
    try:
        nodes_file = os.path.join(state, "nodes.json")
        with open(nodes_file, "w") as f:
            json.dump(items, f, separators=(",", ":"))
        with open(os.path.join(state, "subnet.env"), "w") as f:
            f.write("FLANNEL_NETWORK=10.32.0.0/11\nFLANNEL_SUBNET=%s.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"
                    % network_address(pod_cidr(self_node)).rsplit(".", 1)[0])
        build_namespace(ns, items, self_node)
        config = {"state": state, "size": size, "build": os.path.abspath(args.build), "nodes_file": nodes_file,
                  "self": self_node["metadata"]["name"], "seconds": args.seconds, "scrapes": args.scrapes,
                  "scrape_interval": args.scrape_interval, "settle_timeout": args.settle_timeout,
                  "node_bytes": statistics.mean(len(json.dumps(n, separators=(",", ":"))) for n in items),
                  "metadata_bytes": statistics.mean(len(json.dumps(
                      {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": n["metadata"]},
                      separators=(",", ":"))) for n in items)}
        config_path = os.path.join(state, "config.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                            "--inner", config_path], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("size %d: %s" % (size, r.stderr.strip()[-4000:]))
        result = json.loads(r.stdout)
        result["graph"] = graph_figures(args.build, items)
        result["zones"], result["per_zone"] = zones_for(size, args.zones)
        result["namespace"] = ns
        return result
    finally:
        remove_namespace(ns)
        shutil.rmtree(state, ignore_errors=True)


def fmt_int(n):
    return "{:,}".format(int(round(n)))


def table(results, args):
    out = []
    out.append("| nodes | layout | series (with `peer`) | bytes/scrape | scrape time | probes/s | CPU % "
               "| private MB (Pss / Rss) | API: lists/watches, events/s, watch B/s | flannel's watch B/s "
               "| metadata-only B/s | in-degree min/med/max | group pairs | 1 % churn: nodes changed |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        m, g, a = r["memory_kb"], r["graph"], r["api"]
        p = a["podpath"]
        out.append(
            "| {n} | {z} zones × {pz} | {s} ({ps}) | {b} | {t:.1f} ms | {pr:.0f} | {cpu:.2f} "
            "| {pm:.1f} ({pss:.1f} / {rss:.1f}) | {l}/{w}, {ev:.2f}, {wb} | {fb} | {mb} "
            "| {imin}/{imed}/{imax} | {cov}/{pairs} "
            "| {cc} of {sv} ({ce:.1f} peers each) |".format(
                n=fmt_int(r["size"]), z=r["zones"], pz=r["per_zone"], s=fmt_int(r["series"]),
                ps=fmt_int(r["peer_series"]), b=fmt_int(r["scrape_bytes"]), t=1000 * r["scrape_s"],
                pr=r["probes_per_s"], cpu=r["cpu_percent"], pm=m["Private"] / 1024, pss=m["Pss"] / 1024,
                rss=m["Rss"] / 1024, l=p["lists"], w=p["watches"], ev=p["events_per_s"],
                wb=fmt_int(p["watch_bytes_per_s"]), fb=fmt_int(a["flannel"]["watch_bytes_per_s"]),
                mb=fmt_int(a["metadata"]["watch_bytes_per_s"]), imin=g["in_degree"]["min"],
                imed=g["in_degree"]["median"], imax=g["in_degree"]["max"], cov=fmt_int(g["group_pairs"]["covered"]),
                pairs=fmt_int(g["group_pairs"]["pairs"]), cc=fmt_int(g["churn"]["nodes_changed"]),
                sv=fmt_int(g["churn"]["survivors"]), ce=g["churn"]["peers_changed_each"]))
    return "\n".join(out)


def notes(results, args):
    lines = []
    event = len('{"type":"MODIFIED","object":}\n')
    for r in results:
        rate = r["size"] / KUBELET_REPORT_SECONDS
        full, meta = rate * (r["node_bytes"] + event), rate * (r["metadata_bytes"] + event)
        lines.append(
            "- %s nodes, API model (one status write per node per %d s): %.2f events/s per node watch; "
            "%s B/s full objects (podpath's and flannel's watch alike), %s B/s metadata-only; all nodes' "
            "watches together %s B/s (full)." % (
                fmt_int(r["size"]), KUBELET_REPORT_SECONDS, rate, fmt_int(full), fmt_int(meta),
                fmt_int(full * r["size"])))
        lines.append(
            "- %s nodes: settled after %.1f s; interval %.0f s, %d kubelet status writes (%.2f/s, model %.2f/s); "
            "this node probed by %s (exporter) / graph median %s; load average %.1f -> %.1f on %d CPUs; "
            "flannel's list %s B, podpath's list %s B in %d page(s); mean Node object %s B."
            % (fmt_int(r["size"]), r["settled_s"], r["interval_s"], r["kubelet_writes"],
               r["kubelet_writes"] / r["interval_s"], r["size"] / KUBELET_REPORT_SECONDS,
               fmt_int(r["probed_by"] or 0), r["graph"]["in_degree"]["median"], r["loadavg"][0], r["loadavg"][1],
               r["cpus"], fmt_int(r["api"]["flannel"]["list_bytes"]), fmt_int(r["api"]["podpath"]["list_bytes"]),
               r["api"]["podpath"]["list_pages"], fmt_int(r["node_bytes"])))
        lines.append("- %s nodes, largest families (series): %s." % (
            fmt_int(r["size"]), ", ".join("%s %s" % (k, fmt_int(v)) for k, v in r["top_families"][:6])))
    return "\n".join(lines)


def interrupted(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory")
    parser.add_argument("--sizes", default="10,100,1000,5000", help="cluster sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=60, help="measurement interval (CPU, probes/s, API)")
    parser.add_argument("--zones", type=int, help="zones (default: 50, fewer below 100 nodes)")
    parser.add_argument("--scrapes", type=int, default=5, help="back-to-back scrapes timed (median)")
    parser.add_argument("--scrape-interval", type=float, default=15, help="scrapes during the interval")
    parser.add_argument("--settle-timeout", type=float, default=300, help="seconds to wait for the exporter")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless every size settled with one list and one watch")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        with open(args.inner) as f:
            print(json.dumps(inner(json.load(f))))
        return 0
    if os.geteuid() != 0:
        sys.stderr.write("scale: needs root (network namespaces); skipped\n")
        return 77
    # A SIGTERM (ctest timeout, kill) unwinds like Ctrl-C, so every namespace is removed.
    signal.signal(signal.SIGTERM, interrupted)

    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        sys.stderr.write("scale: %d nodes...\n" % size)
        results.append(measure(args, size))
    print("podpath-exporter (default flags, --no-collector.tailscale), one node of an N-node fake cluster; "
          "measured over %.0f s, a scrape every %.0f s; scrape time: median of %d; memory after them."
          % (args.seconds, args.scrape_interval, args.scrapes))
    print("API: the fake API writes every node's status once per %d s (kubelet's nodeStatusReportFrequency); "
          "events and bytes per second reach each node's watch (podpath's; flannel's informer watch, full "
          "JSON Nodes, measured beside it; a metadata-only watch)." % KUBELET_REPORT_SECONDS)
    print()
    print(table(results, args))
    print()
    print(notes(results, args))
    ratio = [r["metadata_bytes"] / r["node_bytes"] for r in results]
    print("- flannel: its kube subnet manager (flannel-io/flannel pkg/subnet/kube/kube.go) runs a client-go "
          "informer over Nodes().List/Watch with full v1.Node objects (JSON, the clientset's default), so every "
          "node already carries this list and this watch; podpath's is the same stream once more (compare the "
          "columns), one list and one watch per node.")
    print("- metadata-only: not enough for podpath, which reads spec.podCIDR(s), spec.unschedulable, "
          "status.addresses and the Ready condition besides labels and annotations "
          "(exporter/kubernetes/node_stream.cc, node.cc); it would carry the same events (every status write "
          "changes the resourceVersion) at %.0f %% of the bytes with these synthetic nodes (real nodes also "
          "carry managedFields, in both, and up to 50 status.images, in full objects only)."
          % (100 * statistics.mean(ratio)))
    print("- budget at 5,000 nodes (issue #17): <= %d series, <= %d KB per scrape, <= %d probes/s, "
          "<= %d MB private, < %.0f %% of one core." % (
              BUDGET["series"], BUDGET["scrape_kb"], BUDGET["probes"], BUDGET["private_mb"], BUDGET["cpu"]))
    print("- machine: %d CPUs shared with other work (load average above); CPU %% and scrape times are "
          "upper bounds of what the exporter needs." % os.cpu_count())
    if args.json:
        print(json.dumps(results, indent=1))
    if args.check:
        bad = [r["size"] for r in results
               if r["api"]["podpath"]["lists"] != 1 or r["api"]["podpath"]["watches"] != 1 or r["series"] == 0]
        if bad:
            print("CHECK FAILED: sizes %s did not keep one list and one watch" % bad)
            return 1
        print("check: ok (settled, one list and one watch per exporter)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
