#!/usr/bin/env python3
"""The truth the doctor is judged against in the LAN lab (tests/e2e/shapes_lab_test.sh).

    shapes_truth.py DIR BACKEND

DIR holds the doctor's report of every node (NODE.json) and its exit status (NODE.rc);
BACKEND is the `lab scenario` that set flannel's backend (host-gw, vxlan, vxlan-directrouting,
wireguard-native, extension, or ipv6-only: vxlan on an IPv6-only cluster), with no fault applied.
The doctor lists one peer object per (peer, family) ("family": "ipv4" | "ipv6"; a report
without the field is IPv4's): family ipv4 only for every backend but ipv6-only, family ipv6
only there. Every ordered pair is compared with what
tests/lab/README.md ("The LAN lab") says flannel programs for that backend, written out below
from tests/lab/topology-lan.json and flannel's code, not asked of the exporter or the lab.

Prints "ok NAME: ..." or "FAIL NAME: expected ..., seen ..." per pair and per node, then
"SUMMARY pairs=N failed=F findings=NODE:COUNT,...". Exit 1 on any FAIL.
"""
import json
import os
import sys

# tests/lab/topology-lan.json: lan-1..3 on 192.168.10.0/24 (one bridge), annex-4 on
# 192.168.20.0/24 behind the site router. No Tailscale, no zone label: one group, "".
LAN_IP = {"lan-1": "192.168.10.11", "lan-2": "192.168.10.12", "lan-3": "192.168.10.13",
          "annex-4": "192.168.20.14"}
SUBNET = {"lan-1": "lan", "lan-2": "lan", "lan-3": "lan", "annex-4": "annex"}
# The IPv6-only cluster (lab scenario ipv6-only): ULAs per subnet, annex-4 still routed.
LAN_IPV6 = {"lan-1": "fd0c:a80a::11", "lan-2": "fd0c:a80a::12", "lan-3": "fd0c:a80a::13",
            "annex-4": "fd0c:a814::14"}
NODES = list(LAN_IP)
ETH_MTU = 1500
VXLAN_OVERHEAD = 50      # flannel pkg/backend/vxlan: encapOverhead
# flannel asks eth0's MTU - 50 for flannel-v6.1 too (device.go); bound to eth0 the kernel caps
# an IPv6 VXLAN device at 1500 - 70 = 1430 (flannel-io/flannel#1781; tests/lab/selftest.sh).
VXLAN6_OVERHEAD = 70
WIREGUARD_OVERHEAD = 80  # flannel pkg/backend/wireguard/wireguard_network.go: overhead
# What WireGuard over IPv4 really adds: outer IPv4 20 + UDP 8 + data header 16 + tag 16.
WIREGUARD_IPV4_OVERHEAD = 60
BAND_LAN = (0.0, 0.002)  # one bridge or one router hop, in namespaces
# WireGuard in userspace: each packet crosses two wireguard-go processes, which a loaded machine
# schedules late (seen up to 6 ms across the router beside other lab tests); still below the
# 20 ms same-group bound, so no latency finding.
BAND_WIREGUARD = (0.0, 0.015)
CRITICAL = {"route-via-derp", "vxlan-public-exposed", "overlay-blocked", "peer-unreachable",
            "no-route", "vtep-public-address", "tailscale-no-handshake"}


def same_subnet(a, b):
    return SUBNET[a] == SUBNET[b]


def expected_self(backend):
    kind = {"host-gw": "host-gw", "vxlan": "vxlan", "vxlan-directrouting": "vxlan",
            "wireguard-native": "wireguard", "extension": "extension", "ipv6-only": "vxlan"}[backend]
    mtu = {"vxlan": ETH_MTU - VXLAN_OVERHEAD, "wireguard": ETH_MTU - WIREGUARD_OVERHEAD}.get(
        kind, ETH_MTU)
    return kind, mtu


def family_of(backend):
    return "ipv6" if backend == "ipv6-only" else "ipv4"


def expected_pair(backend, a, b):
    """What a pod packet from a to b does with this backend (README, "The LAN lab")."""
    _, flannel_mtu = expected_self(backend)
    if backend == "ipv6-only":
        # flannel's IPv6 VXLAN: 2001:cafe:42:M::/64 via 2001:cafe:42:M:: dev flannel-v6.1
        # onlink, the capsule to the peer's public-ipv6 on eth0 (annex-4 through the router).
        # IPv6's overlay MTU is flannel-v6.1's 1430: FLANNEL_MTU stays 1450 and a pod's larger
        # packet gets Packet Too Big from its own node (doctor_truth.py, FLANNEL6_MTU).
        return {"vtep_address": LAN_IPV6[b], "works": True, "band": BAND_LAN, "problems": set(),
                "overlay_mtu": ETH_MTU - VXLAN6_OVERHEAD, "underlay_answers": True,
                "carrier": "vxlan", "route": ("flannel-v6.1", "main"), "underlay": ("eth0", "main"),
                "transport": "lan", "computed_mtu": ETH_MTU - VXLAN6_OVERHEAD}
    e = {"vtep_address": LAN_IP[b], "works": True, "band": BAND_LAN, "problems": set(),
         "overlay_mtu": flannel_mtu, "underlay_answers": True}
    direct = (backend in ("host-gw", "extension")
              or (backend == "vxlan-directrouting" and same_subnet(a, b)))
    if direct:
        # host-gw / DirectRouting / extension's host-gw example: 10.42.M.0/24 via the peer's
        # public-ip on eth0, the pod packet itself on the wire: MTU = eth0's. A tunnel backend's
        # direct route is DirectRouting (docs/decisions/0006-roads-of-every-backend.md).
        carrier = "direct-routing" if backend == "vxlan-directrouting" else "host-gw"
        e.update(carrier=carrier, route=("eth0", "main"), underlay=("", ""), transport="lan",
                 computed_mtu=ETH_MTU)
        if not same_subnet(a, b):
            # host-gw (and extension's `ip route add ... via`) cannot route via a gateway that
            # is not on-link: flannel logs "Error adding route" and there is no route; the pod
            # packet follows the default route to the site router, which has no pod routes.
            e.update(carrier="none", route=("eth0", "main"), computed_mtu=None, works=False)
            e["problems"] = {"no-route"}
            if backend == "extension":
                # extension's hooks are the operator's own: the routing table cannot prove a
                # missing road, so podpath names it "other" and the probes judge it (the node
                # answers, its pods do not).
                e.update(carrier="other", transport="unknown")
                e["problems"] = {"overlay-blocked"}
    elif backend == "wireguard-native":
        # 10.42.0.0/16 dev flannel-wg scope link; WireGuard in UDP to public-ip:51820 on eth0.
        e.update(carrier="wireguard", route=("flannel-wg", "main"), underlay=("eth0", "main"),
                 transport="lan", computed_mtu=ETH_MTU - WIREGUARD_IPV4_OVERHEAD,
                 band=BAND_WIREGUARD)
    else:
        e.update(carrier="vxlan", route=("flannel.1", "main"), underlay=("eth0", "main"),
                 transport="lan", computed_mtu=ETH_MTU - VXLAN_OVERHEAD)
    return e


def compare_pair(e, v):
    bad = []

    def want(field, expected, seen):
        if expected != seen:
            bad.append(f"{field}: expected {expected!r}, seen {seen!r}")

    want("group", "", v["group"])
    want("same_group", True, v["same_group"])  # ungrouped: one group held to the 20 ms bound
    want("carrier", e["carrier"], v["carrier"])
    if e["carrier"] != "none":
        want("route", e["route"], (v["route_device"], v["route_table"]))
    want("vtep_address", e["vtep_address"], v["vtep_address"])
    want("underlay", e["underlay"], (v["underlay_device"], v["underlay_table"]))
    if e["carrier"] != "none":
        want("transport", e["transport"], v["transport"])
        want("computed_mtu", e["computed_mtu"], v["computed_mtu"])
    want("double_encapsulation", False, v["double_encapsulation"])
    want("overlay_mtu", e["overlay_mtu"], v["overlay_mtu"])
    want("flannel_inconsistencies", [], v["flannel_inconsistencies"])
    want("exposed_addresses", [], v["exposed_addresses"])
    probe = v["overlay_probe"] or {}
    loss, rtt = probe.get("loss_ratio"), probe.get("rtt_seconds")
    if e["works"]:
        if loss is None or loss > 0.2:
            bad.append(f"loss: expected <= 0.2 (the road works), seen {loss!r}")
        lo, hi = e["band"]
        if rtt is None or not lo <= rtt <= hi:
            bad.append(f"rtt: expected {lo * 1000:.2f}..{hi * 1000:.2f} ms, seen {rtt!r}")
    else:
        want("loss", 1.0, loss)
    under = (v["underlay_probe"] or {}).get("loss_ratio")
    if under is None or under > 0.2:
        bad.append(f"underlay loss: expected <= 0.2 (the peer's public-ip answers), seen {under!r}")
    road = f"{v['carrier']} {v['route_device']}/{v['route_table']}"
    if v["underlay_device"]:
        road += f" over {v['underlay_device']}/{v['underlay_table']}"
    ms = "-" if rtt is None else f"{rtt * 1000:.2f} ms"
    return bad, f"{road} {v['transport']}, rtt {ms}, loss {loss}, mtu {v['computed_mtu']}"


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    directory, backend = sys.argv[1], sys.argv[2]
    kind, flannel_mtu = expected_self(backend)
    failed = pairs = 0
    counts = []

    def fail(name, why):
        nonlocal failed
        failed += 1
        print(f"FAIL {name}: {why}")

    for a in NODES:
        try:
            with open(os.path.join(directory, a + ".json")) as f:
                report = json.load(f)
            with open(os.path.join(directory, a + ".rc")) as f:
                rc = int(f.read().strip() or -1)
        except (OSError, ValueError) as err:
            fail(f"{backend} {a} report", f"expected the doctor's JSON, seen {err}")
            counts.append(f"{a}:?")
            continue
        want_self = {"node": a, "group": "", "backend_type": kind, "public_ip": LAN_IP[a],
                     "flannel_mtu": flannel_mtu, "flannel_network": "10.42.0.0/16"}
        if backend == "ipv6-only":
            # No public-ip, no FLANNEL_NETWORK: the node's flannel address is its public-ipv6
            # (named public_ipv6 or, having no IPv4 one, public_ip) and the network IPv6's.
            self_ = report["self"]
            want_self.update(public_ip=LAN_IPV6[a], flannel_network="2001:cafe:42::/56")
            seen_self = {k: self_.get(k) for k in want_self}
            seen_self["public_ip"] = self_.get("public_ipv6") or self_.get("public_ip")
            seen_self["flannel_network"] = (self_.get("flannel_ipv6_network")
                                            or self_.get("flannel_network"))
        else:
            seen_self = {k: report["self"].get(k) for k in want_self}
        if seen_self != want_self:
            fail(f"{backend} {a} self", f"expected {want_self}, seen {seen_self}")
        peers = {(v["peer"], v.get("family", "ipv4")): v for v in report["peers"]}
        fam = family_of(backend)
        want_peers = sorted(n for n in NODES if n != a)
        want_keys = [(b, fam) for b in want_peers]
        if sorted(peers) != want_keys:
            fail(f"{backend} {a} peers", f"expected {want_keys}, seen {sorted(peers)}")
        want_findings = set()
        for b in want_peers:
            if (b, fam) not in peers:
                continue
            pairs += 1
            e = expected_pair(backend, a, b)
            want_findings |= {(code, b) for code in e["problems"]}
            bad, said = compare_pair(e, peers[(b, fam)])
            if bad:
                fail(f"{backend} {a}->{b}", "; ".join(bad) + f" [doctor: {said}]")
            else:
                print(f"ok   {backend} {a}->{b}: {said}")
        # Every finding: an IPv6-only cluster has no annotation error and no flannel drift; a
        # peer finding of another family than the cluster's is wrong too.
        seen = {(f["code"], f["peer"]) for f in report["findings"]
                if not f["peer"] or f.get("family", "ipv4") == fam}
        seen |= {(f["code"] + " (" + f.get("family", "ipv4") + ")", f["peer"])
                 for f in report["findings"] if f["peer"] and f.get("family", "ipv4") != fam}
        missing, extra = sorted(want_findings - seen), sorted(seen - want_findings)
        if missing or extra:
            fail(f"{backend} {a} findings",
                 f"missing {missing or 'nothing'}, unexpected {extra or 'nothing'}")
        else:
            names = " ".join(f"{c}({p})" for c, p in sorted(seen)) or "none"
            print(f"ok   {backend} {a} findings: {names}")
        want_rc = 1 if any(c in CRITICAL for c, _ in want_findings) else 0
        if rc != want_rc:
            fail(f"{backend} {a} exit status", f"expected {want_rc}, seen {rc}")
        counts.append(f"{a}:{len(seen)}")
    print(f"SUMMARY pairs={pairs} failed={failed} findings={','.join(counts)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
