#!/usr/bin/python3
"""Compares one lab node's podpath /metrics with what iproute2 prints in its namespace.

  lab_compare.py NAMESPACE METRICS_FILE [SUBNET_ENV]

Checks: podpath_link_info / podpath_link_mtu_bytes against `ip -d -j link` (every device
except the default-excluded pod veths), podpath_vxlan_info against the vxlan details, every
podpath_peer_route_info series against `ip -j route get <destination>` (device, table,
source, or the error), that every flannel peer route on flannel.1 has an overlay series,
and podpath_flannel_* against subnet.env. Prints one line per difference; exit 1 if any.
"""
import errno
import json
import os
import re
import subprocess
import sys

EXCLUDE = re.compile(r"^(veth|cali)")  # the exporter's default --netlink.device-exclude
SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SERIES.match(line)
        if not m:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in LABEL.findall(m.group(2) or "")}
        out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


def ip(ns, *args):
    return subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True, text=True)


def main():
    ns, metrics_file = sys.argv[1], sys.argv[2]
    subnet_env = sys.argv[3] if len(sys.argv) > 3 else None
    metrics = parse_metrics(open(metrics_file).read())
    problems = []
    checked = 0

    links = json.loads(ip(ns, "ip", "-d", "-j", "link", "show").stdout)
    want = {}
    for link in links:
        name = link["ifname"]
        if EXCLUDE.search(name):
            continue
        info = link.get("linkinfo", {})
        want[name] = (info.get("info_kind", "device"), link["operstate"].lower(), link["mtu"])
    got = {}
    for labels, _ in metrics.get("podpath_link_info", []):
        got[labels["device"]] = [labels["kind"], labels["operstate"], None]
    for labels, value in metrics.get("podpath_link_mtu_bytes", []):
        got.setdefault(labels["device"], [None, None, None])[2] = int(value)
    for name in sorted(set(want) | set(got)):
        checked += 1
        if tuple(got.get(name, ())) != want.get(name):
            problems.append(f"link {name}: podpath {got.get(name)} iproute2 {want.get(name)}")

    vx_want = {}
    for link in links:
        info = link.get("linkinfo", {})
        if info.get("info_kind") == "vxlan" and not EXCLUDE.search(link["ifname"]):
            d = info["info_data"]
            vx_want[link["ifname"]] = (str(d["id"]), d.get("local", ""), str(d["port"]),
                                       d.get("link", ""))
    vx_got = {labels["device"]: (labels["vni"], labels["local"], labels["dstport"], labels["underlay_device"])
              for labels, _ in metrics.get("podpath_vxlan_info", [])}
    for name in sorted(set(vx_want) | set(vx_got)):
        checked += 1
        if vx_got.get(name) != vx_want.get(name):
            problems.append(f"vxlan {name}: podpath {vx_got.get(name)} iproute2 {vx_want.get(name)}")

    overlay_destinations = set()
    for labels, _ in metrics.get("podpath_peer_route_info", []):
        checked += 1
        dst = labels["destination"]
        if labels["target"] == "overlay":
            overlay_destinations.add(dst)
        r = ip(ns, "ip", "-j", "route", "get", dst)
        where = f"route {labels['peer']} {labels['target']} {dst}"
        if r.returncode != 0:
            message = r.stderr.strip().split(": ", 1)[-1]
            ours = os.strerror(getattr(errno, labels["error"])) if labels["error"] else "a route"
            if ours != message:
                problems.append(f"{where}: podpath {labels['error'] or labels['device']} iproute2 {message}")
            continue
        route = json.loads(r.stdout)[0]
        theirs = (route.get("dev", ""), route.get("table", "main"), route.get("prefsrc", ""), "")
        ours = (labels["device"], labels["table"], labels["source"], labels["error"])
        if ours != theirs:
            problems.append(f"{where}: podpath {ours} iproute2 {theirs}")

    # Every peer flannel programmed must have its overlay route reported.
    for route in json.loads(ip(ns, "ip", "-4", "-j", "route", "show", "dev", "flannel.1").stdout or "[]"):
        if "onlink" in route.get("flags", []) and "gateway" in route:
            checked += 1
            if route["gateway"] not in overlay_destinations:
                problems.append(f"peer {route['dst']}: no podpath_peer_route_info overlay series")

    if subnet_env and os.path.exists(subnet_env):
        env = dict(line.split("=", 1) for line in open(subnet_env).read().splitlines() if "=" in line)
        checked += 1
        mtu = [v for _, v in metrics.get("podpath_flannel_mtu_bytes", [])]
        if mtu != [float(env["FLANNEL_MTU"])]:
            problems.append(f"flannel mtu: podpath {mtu} subnet.env {env['FLANNEL_MTU']}")
        info = [(labels["network"], labels["subnet"])
                for labels, _ in metrics.get("podpath_flannel_subnet_info", [])]
        if (env["FLANNEL_NETWORK"], env["FLANNEL_SUBNET"]) not in info:
            problems.append(f"flannel subnet: podpath {info} subnet.env {env['FLANNEL_SUBNET']}")

    for p in problems:
        print(f"  FAIL {ns}: {p}")
    print(f"  {ns}: {checked} facts checked, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
