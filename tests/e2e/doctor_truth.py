#!/usr/bin/env python3
"""The truth the doctor is judged against in tests/e2e/doctor_scenarios_test.sh.

    doctor_truth.py DIR SCENARIO [SCENARIO ...]

DIR holds the doctor's report of every node (NODE.json) and its exit status (NODE.rc);
the SCENARIOs are every `lab scenario` applied since `lab up`, oldest first ("vxlan-blocked
A B" as one argument). The lab's state is replayed from that list and every ordered pair of
nodes is compared with what tests/lab/README.md ("Scenarios and their truth") and the field
report's account (summarised in tests/lab/README.md) says about it. Nothing here asks the
exporter or the lab how to judge: addresses, roads, bands and problems are written out below.

Families: the doctor lists one peer object per (peer, family), "family": "ipv4" | "ipv6", and
each peer finding carries its family (a report without the field is IPv4's). Every scenario
has the IPv4 family; after `dual-stack` (README, "Dual stack") every pair is judged in IPv6 as
well, on flannel-v6.1 and the tailnet's IPv6, with its own addresses, MTU and faults.

Prints "ok NAME: ..." or "FAIL NAME: expected ..., seen ..." per pair and family and per node,
then "SUMMARY pairs=N failed=F findings=NODE:COUNT,..." (N counts pairs in each family). Exit 1
on any FAIL.
"""
import json
import os
import sys

# The field report's cluster as the lab builds it (tests/lab/README.md, Topology).
SERVERS = ["ip-172-26-2-70", "ip-172-26-3-146"]  # Lightsail, Tokyo VPC
HOMES = ["lima-k3s-agent", "lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"]
NODES = SERVERS + HOMES
SITE = {n: "tokyo" for n in SERVERS} | {n: "sapporo" for n in HOMES}
VPC_IP = {"ip-172-26-2-70": "172.26.2.70", "ip-172-26-3-146": "172.26.3.146"}
PUBLIC_IP = {"ip-172-26-2-70": "203.0.113.10", "ip-172-26-3-146": "203.0.113.11"}
TAILNET_IP = {"ip-172-26-2-70": "100.99.0.1", "ip-172-26-3-146": "100.71.0.1",
              "lima-k3s-agent": "100.84.0.1", "lima-k3s-agent-2": "100.98.0.1",
              "lima-k3s-agent-3": "100.117.0.1", "lima-k3s-agent-4": "100.90.0.1"}
VMNET_IP = {"lima-k3s-agent": "192.168.105.2", "lima-k3s-agent-2": "192.168.105.3",
            "lima-k3s-agent-3": "192.168.105.4", "lima-k3s-agent-4": "192.168.105.5"}
DERP_REGION = "tok"
FLANNEL_MTU = 1450  # every node's flannel.1: its default-route interface's 1500 - 50
TAILSCALE_MTU = 1280
VXLAN_OVERHEAD = 50
# Dual stack (tests/lab/topology.json, README "Dual stack"): ULAs on the VPC and on vmnet, the
# home VMs' IPv6 being vmnet's. Cross-site IPv6 rides the tailnet as IPv4 does; nothing of
# the lab routes IPv6 between the sites otherwise.
VPC_IPV6 = {"ip-172-26-2-70": "fdac:1a26::2:70", "ip-172-26-3-146": "fdac:1a26::3:146"}
VMNET_IPV6 = {"lima-k3s-agent": "fdc0:a869::2", "lima-k3s-agent-2": "fdc0:a869::3",
              "lima-k3s-agent-3": "fdc0:a869::4", "lima-k3s-agent-4": "fdc0:a869::5"}
# VXLAN over IPv6 adds 70 bytes (40 IPv6 + 8 UDP + 8 VXLAN + 14 Ethernet). flannel asks the
# interface's MTU - 50 for flannel-v6.1 as for flannel.1 (pkg/backend/vxlan/device.go); the
# kernel caps a VXLAN device bound to its lower device at that MTU - 70 over IPv6, so
# flannel-v6.1 is 1430 (flannel-io/flannel#1781: "ipv6 MTU - 70"; the lab's selftest checks
# it). FLANNEL_MTU in subnet.env stays 1450, one number for both families; a pod's 1450-byte
# IPv6 packet gets Packet Too Big from its own node, so IPv6's overlay MTU is flannel-v6.1's
# and a path below 1430 (not 1450) is the family's MTU problem.
VXLAN6_OVERHEAD = 70
FLANNEL6_MTU = 1500 - VXLAN6_OVERHEAD
FAMILIES = ("ipv4", "ipv6")

# RTT bands of the README's self-test (medians there; the doctor's mean over its burst here).
BAND_DERP = (0.090, 0.130)  # 2 x 50 ms one way via the relay; load only adds (report: 87-133)
BAND_LAN = (0.0, 0.005)  # VPC or vmnet bridge: well under 1 ms idle, seen 1.3 ms under -j4 load
# 23 ms, Tailscale direct: never below the emulator's delay (-10 %); above it, a loaded machine
# (two cores, -j4 lab tests, wireguard-go and a sanitizer build beside) adds scheduling delay,
# seen up to 42.2 ms, so the band stops at 60 ms, still far from DERP's 90.
BAND_CROSS_SITE = (0.0207, 0.060)
# 2 x 0.2 ms one way, Tailscale direct within a site; the emulator forwards every packet
# itself, so a loaded machine adds a millisecond or two (measured 0.5 - 2.0 ms).
BAND_TAILNET_SAME_SITE = (0.0, 0.005)
# Longhorn's 20 ms within a site (report section 4); between sites distance sets the floor.
LATENCY_BOUND_SAME_SITE = 0.020

# The field report's problems and the finding each is named by.
PROBLEM_CODES = {
    "DERP detour (section 5)": "route-via-derp",
    "double encapsulation (sections 2, 5)": "double-encapsulation",
    "path MTU below flannel's 1450 (sections 2, 5; MTU black hole)": "path-mtu-too-small",
    "latency above Longhorn's 20 ms (section 4)": "latency-high",
    "UDP 8472 open on a public address (sections 3, 8)": "vxlan-public-exposed",
    "overlay blocked while the VTEP answers (vxlan-blocked; section 1)": "overlay-blocked",
    "peer unreachable on overlay and VTEP (section 1)": "peer-unreachable",
    "Tailscale sends to the peer and never completes a handshake": "tailscale-no-handshake",
    "the peer's Tailscale node key expired": "tailscale-peer-key-expired",
}
CRITICAL = {"route-via-derp", "vxlan-public-exposed", "overlay-blocked", "peer-unreachable",
            "no-route", "vtep-public-address", "tailscale-no-handshake", "tailscale-key-expired",
            "tailscale-peer-key-expired"}


def base_state():
    # field-report-before: home VMs isolated behind their own NATs, flannel on tailscale0
    # (k3s --flannel-iface), cross-site pod CIDRs as Tailscale subnet routes, 8472 VPC-only.
    return {"home_lan": "isolated", "subnet_routes": True, "public_8472": "closed",
            "blocked": set(), "blackhole": None, "no_handshake": set(), "expired": set(),
            "vpn_auth": False, "dual_stack": False, "blocked6": set()}


def replay(scenarios):
    state = base_state()
    for text in scenarios:
        name, *args = text.split()
        if name == "field-report-before":
            state = base_state()
        elif name == "field-report-after":
            state = base_state() | {"home_lan": "vmnet"}
        elif name == "vmnet":
            state["home_lan"] = "vmnet"
        elif name == "cross-site-subnet-routes":
            state["subnet_routes"] = True
        elif name == "no-subnet-routes":
            state["subnet_routes"] = False
        elif name == "public-8472-open":
            state["public_8472"] = "open"
        elif name == "public-8472-closed":
            state["public_8472"] = "closed"
        elif name == "vxlan-blocked":
            a, b = args if args else SERVERS
            state["blocked"] = state["blocked"] | {frozenset((a, b))}
        elif name == "vxlan-unblocked":
            state["blocked"] = set()
        elif name == "mtu-blackhole":
            node = args[0] if args else "ip-172-26-3-146"
            mtu = int(args[1]) if len(args) > 1 else 1400
            state["blackhole"] = (node, mtu)
        elif name == "mtu-ok":
            state["blackhole"] = None
        elif name == "tailscale-no-handshake":
            a, b = args if args else (SERVERS[0], HOMES[0])
            state["no_handshake"] = state["no_handshake"] | {frozenset((a, b))}
        elif name == "tailscale-handshake-ok":
            state["no_handshake"] = set()
        elif name == "tailscale-key-expired":
            state["expired"] = state["expired"] | {args[0] if args else HOMES[1]}
        elif name == "tailscale-key-renewed":
            state["expired"] = set()
        elif name == "vpn-auth":
            if state["dual_stack"]:
                raise SystemExit("doctor_truth.py: the lab refuses vpn-auth on a dual-stack lab")
            state["vpn_auth"] = True
            state["subnet_routes"] = True
        elif name == "dual-stack":
            if state["home_lan"] != "vmnet" or state["vpn_auth"]:
                raise SystemExit("doctor_truth.py: the lab refuses dual-stack before vmnet or "
                                 "with vpn-auth")
            state["dual_stack"] = True
        elif name == "single-stack":
            state["dual_stack"] = False
            state["blocked6"] = set()
        elif name == "vxlan6-blocked":
            a, b = args if args else SERVERS
            state["blocked6"] = state["blocked6"] | {frozenset((a, b))}
        elif name == "vxlan6-unblocked":
            state["blocked6"] = set()
        else:
            raise SystemExit(f"doctor_truth.py: no truth for scenario {text!r}")
    return state


def families(state):
    return FAMILIES if state["dual_stack"] else FAMILIES[:1]


def vtep(state, node, family="ipv4"):
    """flannel's public-ip: the default-route interface's address, or tailscale0's for the
    home VMs before vmnet (report section 7: vmnet makes lima0 the default route). Its
    public-ipv6 (dual-stack, always after vmnet): the same interface's IPv6 address."""
    if family == "ipv6":
        return VPC_IPV6[node] if node in SERVERS else VMNET_IPV6[node]
    if state["vpn_auth"]:
        return TAILNET_IP[node]  # k3s --vpn-auth: node-ip is the Tailscale address
    if node in SERVERS:
        return VPC_IP[node]
    return VMNET_IP[node] if state["home_lan"] == "vmnet" else TAILNET_IP[node]


def tailnet_dead(state, a, b):
    """The tailnet itself carries nothing between a and b: a pair that never completes a
    handshake, or an expired node key on either side (tailscaled drops that peer)."""
    return frozenset((a, b)) in state["no_handshake"] or bool({a, b} & state["expired"])


def rides_tailnet(state, a, b):
    """Whether a pod packet from a to b is carried by Tailscale (a subnet route, or VXLAN to
    a tailnet VTEP)."""
    if state["vpn_auth"] or (SITE[a] != SITE[b] and state["subnet_routes"]):
        return True
    return b in HOMES and state["home_lan"] == "isolated"


def road_works(state, a, b, family="ipv4"):
    """Whether a pod packet from a reaches b (README, "Scenarios and their truth")."""
    if rides_tailnet(state, a, b) and tailnet_dead(state, a, b):
        return False
    if state["vpn_auth"]:
        return True  # every pod CIDR is a Tailscale route: no VXLAN, no 8472 block applies
    blocked = state["blocked6"] if family == "ipv6" else state["blocked"]
    if frozenset((a, b)) in blocked:
        # vxlan-blocked / vxlan6-blocked: nftables drops UDP 8472 between the two, over IPv4
        # or over IPv6 only
        return False
    if SITE[a] != SITE[b]:
        # no-subnet-routes: cross-site overlay fails both ways (home capsules to 172.26.x
        # are unroutable; server capsules reach the home tailscaled with source 172.26.x and
        # its source check drops them).
        return state["subnet_routes"]
    return True


def expected_pair6(state, a, b):
    """The IPv6 family of a dual-stack lab (always on vmnet, never vpn-auth): flannel-v6.1
    where IPv4 takes flannel.1, the tailnet's IPv6 where IPv4 takes its IPv4."""
    same_site = SITE[a] == SITE[b]
    e = {"group": SITE[b], "same_group": same_site, "vtep_address": vtep(state, b, "ipv6"),
         "works": road_works(state, a, b, "ipv6"), "exposed": [], "closed": [],
         "overlay_mtu": FLANNEL6_MTU, "flannel_checked": True, "double": False,
         "peer_key_expired": b in state["expired"]}
    if not same_site and state["subnet_routes"]:
        # The pod CIDRs' IPv6 halves are Tailscale subnet routes too: ip -6 table 52.
        e.update(carrier="tailscale-subnet-route", route=("tailscale0", "52"), underlay=("", ""),
                 transport="tailscale-direct", derp="", computed_mtu=TAILSCALE_MTU,
                 band=BAND_CROSS_SITE, probed_mtu={TAILSCALE_MTU})
    else:
        # flannel's IPv6 VXLAN: 2001:cafe:42:M::/64 via 2001:cafe:42:M:: dev flannel-v6.1
        # onlink; the capsule to the peer's public-ipv6 on the VPC or the vmnet bridge.
        device = "eth0" if a in SERVERS else "lima0"
        e.update(carrier="vxlan", route=("flannel-v6.1", "main"), underlay=(device, "main"),
                 transport="lan", derp="", computed_mtu=FLANNEL6_MTU,
                 band=BAND_LAN if same_site else None, probed_mtu={FLANNEL6_MTU})
        bh = state["blackhole"]
        if bh and bh[0] in (a, b):
            # The switch port's 1400 less IPv6 VXLAN's 70, and Linux's 4 bytes of veth slack.
            first = bh[1] - VXLAN6_OVERHEAD
            e["probed_mtu"] = set(range(first, first + 5))
    if rides_tailnet(state, a, b) and tailnet_dead(state, a, b):
        if frozenset((a, b)) in state["no_handshake"]:
            e.update(transport="tailscale-no-handshake", derp=DERP_REGION)
        else:
            e.update(transport="unknown", derp="")
    if not e["works"]:
        e["probed_mtu"] = {None}
    # The peer's public-ipv6 answers within its site only (ULAs, no IPv6 between the sites).
    e["vtep_answers"] = same_site
    return e


def expected_pair(state, a, b, family="ipv4"):
    """What a pod packet from a to b does, in the README's and the report's terms."""
    if family == "ipv6":
        return expected_pair6(state, a, b)
    same_site = SITE[a] == SITE[b]
    home_pair = a in HOMES and b in HOMES
    e = {"group": SITE[b], "same_group": same_site, "vtep_address": vtep(state, b),
         "works": road_works(state, a, b), "exposed": [], "closed": [],
         "overlay_mtu": TAILSCALE_MTU if state["vpn_auth"] else FLANNEL_MTU,
         "flannel_checked": not state["vpn_auth"]}
    if state["vpn_auth"]:
        # k3s --vpn-auth: every node advertises its pod CIDR and accepts all others', so every
        # pair leaves by tailscale0 table 52 on the pair's own Tailscale path.
        e.update(carrier="tailscale-subnet-route", route=("tailscale0", "52"), underlay=("", ""),
                 double=False, computed_mtu=TAILSCALE_MTU, probed_mtu={TAILSCALE_MTU})
        if not same_site:
            e.update(transport="tailscale-direct", derp="", band=BAND_CROSS_SITE)
        elif home_pair and state["home_lan"] == "isolated":
            e.update(transport="tailscale-derp", derp=DERP_REGION, band=BAND_DERP)
        else:
            e.update(transport="tailscale-direct", derp="", band=BAND_TAILNET_SAME_SITE)
    elif not same_site and state["subnet_routes"]:
        # Report section 8: `ip route get 10.42.0.235` -> dev tailscale0 table 52; one
        # WireGuard layer, direct between the sites, 20-26 ms.
        e.update(carrier="tailscale-subnet-route", route=("tailscale0", "52"), underlay=("", ""),
                 transport="tailscale-direct", derp="", double=False,
                 computed_mtu=TAILSCALE_MTU, band=BAND_CROSS_SITE, probed_mtu={TAILSCALE_MTU})
    else:
        # flannel's VXLAN: route 10.42.M.0/24 via 10.42.M.0 dev flannel.1 onlink (main); the
        # capsule goes wherever the kernel routes the peer's VTEP address.
        e.update(carrier="vxlan", route=("flannel.1", "main"))
        if b in HOMES and state["home_lan"] == "isolated":
            # The VTEP is a tailnet 100.x: table 52, VXLAN inside WireGuard, 1280 - 50.
            e.update(underlay=("tailscale0", "52"), double=True,
                     computed_mtu=TAILSCALE_MTU - VXLAN_OVERHEAD)
            if home_pair:
                # Two VMs behind endpoint-dependent NATs: DERP Tokyo relays (section 5).
                e.update(transport="tailscale-derp", derp=DERP_REGION, band=BAND_DERP)
            else:
                e.update(transport="tailscale-direct", derp="", band=None)
        else:
            device = "eth0" if a in SERVERS or state["home_lan"] == "isolated" else "lima0"
            e.update(underlay=(device, "main"), transport="lan", derp="", double=False,
                     computed_mtu=FLANNEL_MTU, band=BAND_LAN if same_site else None)
        # Over tailscale0 too: the capsule's outer header has DF clear, so the kernel
        # fragments it to fit the 1280 and a 1450-byte don't-fragment probe arrives in pieces
        # (checked by hand: `ping -M do -s 1422` passes once, then the kernel caches 1230).
        # That squeeze is the computed 1230 above, and the fragmentation.
        e["probed_mtu"] = {FLANNEL_MTU}
        bh = state["blackhole"]
        if bh and e["underlay"][0] in ("eth0", "lima0") and bh[0] in (a, b):
            # The switch port in front of the node drops frames above its MTU (1400): the
            # overlay carries 1400 - 50 = 1350, and up to 4 bytes more because Linux lets
            # a veth receive MTU + 4 (room for a VLAN tag). Measured: 1354.
            first = bh[1] - VXLAN_OVERHEAD
            e["probed_mtu"] = set(range(first, first + 5))
    if rides_tailnet(state, a, b) and tailnet_dead(state, a, b):
        if frozenset((a, b)) in state["no_handshake"]:
            # tailscaled keeps sending (Active) with no session: `active; relay "tok"`.
            e.update(transport="tailscale-no-handshake", derp=DERP_REGION)
        else:
            # An expired key: tailscaled drops the peer (no endpoint, not Active), so it
            # cannot say which road the next packet would take.
            e.update(transport="unknown", derp="")
    if not e["works"]:
        e["probed_mtu"] = {None}  # even the smallest probe is lost: no path MTU
    # Does b's VTEP answer a's underlay ping? (tells a blocked overlay from a lost peer)
    if state["vpn_auth"] or (b in HOMES and state["home_lan"] == "isolated"):
        e["vtep_answers"] = not tailnet_dead(state, a, b)  # 100.x through the tailnet
    elif b in SERVERS:
        e["vtep_answers"] = a in SERVERS  # 172.26.x is private to the VPC
    else:
        e["vtep_answers"] = a in HOMES  # 192.168.105.x is private to the iMac
    # Exposure probe: a VXLAN frame to b's public address; b answers only when 8472 is open
    # there and b's reply reaches a's flannel address (b's road back to a works).
    e["peer_key_expired"] = b in state["expired"]
    # (Not under vpn-auth: the extension backend has no VtepMAC to aim a frame at.)
    if b in SERVERS and not state["vpn_auth"]:
        open_ = state["public_8472"] == "open" and road_works(state, b, a)
        (e["exposed"] if open_ else e["closed"]).append(PUBLIC_IP[b])
    return e


def expected_problems(e):
    """The report's problems on the pair."""
    problems = set()
    if e["transport"] == "tailscale-derp":
        problems.add("DERP detour (section 5)")
    if e["double"]:
        problems.add("double encapsulation (sections 2, 5)")
    if e["carrier"] == "vxlan":
        # (IPv6: below flannel-v6.1's 1430, the family's overlay MTU)
        smallest = min((m for m in e["probed_mtu"] if m is not None), default=e["overlay_mtu"])
        if min(e["computed_mtu"], smallest) < e["overlay_mtu"]:
            problems.add("path MTU below flannel's 1450 (sections 2, 5; MTU black hole)")
    if e["exposed"]:
        problems.add("UDP 8472 open on a public address (sections 3, 8)")
    if e["transport"] == "tailscale-no-handshake":
        problems.add("Tailscale sends to the peer and never completes a handshake")
    if e["peer_key_expired"]:
        problems.add("the peer's Tailscale node key expired")
    if not e["works"]:
        problems.add("overlay blocked while the VTEP answers (vxlan-blocked; section 1)"
                     if e["vtep_answers"] else "peer unreachable on overlay and VTEP (section 1)")
    elif e["same_group"] and e["band"][0] > LATENCY_BOUND_SAME_SITE:
        problems.add("latency above Longhorn's 20 ms (section 4)")
    return {PROBLEM_CODES[p] for p in problems}


def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.2f} ms"


def compare_pair(e, v):
    """Returns (mismatches, one-line summary of what the doctor said)."""
    bad = []

    def want(field, expected, seen):
        if expected != seen:
            bad.append(f"{field}: expected {expected!r}, seen {seen!r}")

    want("group", e["group"], v["group"])
    want("same_group", e["same_group"], v["same_group"])
    want("ready", True, v["ready"])
    want("carrier", e["carrier"], v["carrier"])
    want("route", e["route"], (v["route_device"], v["route_table"]))
    want("route_error", "", v["route_error"])
    want("vtep_address", e["vtep_address"], v["vtep_address"])
    want("underlay", e["underlay"], (v["underlay_device"], v["underlay_table"]))
    want("transport", e["transport"], v["transport"])
    want("derp_region", e["derp"], v["derp_region"])
    want("double_encapsulation", e["double"], v["double_encapsulation"])
    want("overlay_mtu", e["overlay_mtu"], v["overlay_mtu"])
    want("computed_mtu", e["computed_mtu"], v["computed_mtu"])
    if v["probed_mtu"] not in e["probed_mtu"]:
        bad.append(f"probed_mtu: expected one of {sorted(e['probed_mtu'], key=str)}, "
                   f"seen {v['probed_mtu']!r}")
    # flannel's FDB/neighbour consistency is vxlan's; the extension backend (vpn-auth) has none.
    want("flannel_checked", e["flannel_checked"], v["flannel_checked"])
    want("flannel_inconsistencies", [], v["flannel_inconsistencies"])
    want("exposed_addresses", e["exposed"], v["exposed_addresses"])
    want("closed_addresses", e["closed"], v["closed_addresses"])
    want("probes_judged", True, v.get("probes_judged"))
    probe = v["overlay_probe"] or {}
    loss, rtt = probe.get("loss_ratio"), probe.get("rtt_seconds")
    if e["works"]:
        # At most one probe of the burst lost: a starved CPU may delay one past the timeout.
        if loss is None or loss > 0.2:
            bad.append(f"loss: expected <= 0.2 (the road works), seen {loss!r}")
        lo, hi = e["band"] or (None, None)
        if lo is None:
            bad.append("rtt: the truth has no band for this road")
        elif rtt is None or not lo <= rtt <= hi:
            bad.append(f"rtt: expected {ms(lo)} .. {ms(hi)}, seen {ms(rtt)}")
    else:
        want("loss", 1.0, loss)
    under = v["underlay_probe"] or {}
    under_loss = under.get("loss_ratio")
    if e["vtep_answers"] and (under_loss is None or under_loss > 0.2):
        bad.append(f"underlay loss: expected <= 0.2 (the VTEP answers), seen {under_loss!r}")
    if not e["vtep_answers"]:
        want("underlay loss", 1.0, under_loss)
    road = f"{v['carrier']} {v['route_device']}/{v['route_table']}"
    if v["underlay_device"]:
        road += f" over {v['underlay_device']}/{v['underlay_table']}"
    road += f" {v['transport']}{' ' + v['derp_region'] if v['derp_region'] else ''}"
    said = (f"{road}, rtt {ms(rtt)}, loss {loss}, mtu {v['computed_mtu']}/{v['probed_mtu']}"
            f"{', exposed ' + ','.join(v['exposed_addresses']) if v['exposed_addresses'] else ''}")
    return bad, said


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    directory, scenarios = sys.argv[1], sys.argv[2:]
    state = replay(scenarios)
    step = scenarios[-1].replace(" ", ":")
    failed = pairs = 0
    counts = []

    def fail(name, why):
        nonlocal failed
        failed += 1
        print(f"FAIL {name}: {why}")

    for a in NODES:
        path = os.path.join(directory, a + ".json")
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, ValueError) as err:
            fail(f"{step} {a} report", f"expected the doctor's JSON in {path}, seen {err}")
            counts.append(f"{a}:?")
            continue
        with open(os.path.join(directory, a + ".rc")) as f:
            rc = int(f.read().strip() or -1)
        # One peer object per (peer, family); a report without "family" is IPv4's.
        peers = {(v["peer"], v.get("family", "ipv4")): v for v in report["peers"]}
        want_peers = sorted(n for n in NODES if n != a)
        want_keys = sorted((b, fam) for b in want_peers for fam in families(state))
        if sorted(peers) != want_keys:
            fail(f"{step} {a} peers", f"expected {want_keys}, seen {sorted(peers)}")
        # This node as flannel describes it.
        self_ = report["self"]
        # k3s --vpn-auth runs flannel's extension backend: no VNI, FLANNEL_MTU = tailscale0's.
        vpn = state["vpn_auth"]
        want_self = {"node": a, "group": SITE[a],
                     "backend_type": "extension" if vpn else "vxlan", "vni": None if vpn else 1,
                     "public_ip": vtep(state, a),
                     "flannel_mtu": TAILSCALE_MTU if vpn else FLANNEL_MTU,
                     "flannel_network": "10.42.0.0/16"}
        seen_self = {k: self_.get(k) for k in want_self}
        if seen_self != want_self:
            fail(f"{step} {a} self", f"expected {want_self}, seen {seen_self}")
        # Every node advertises its own pod CIDR while subnet routes are on (tailnet emulator:
        # PrimaryRoutes on Self too): the doctor says once, as information, that pod traffic to
        # it rides Tailscale by design.
        # Findings as (code, peer, family); a node's own findings have neither.
        want_findings = {("pods-ride-tailscale", "", "")} if state["subnet_routes"] else set()
        if a in state["expired"]:
            want_findings.add(("tailscale-key-expired", "", ""))
        # tailscaled's view of this node: every node has a key expiring in 180 days, and an
        # expired one an hour ago (lab render_tailnet).
        ts = self_.get("tailscale") or {}
        if ts.get("key_expiry_unix_seconds") is None:
            fail(f"{step} {a} key expiry", f"expected tailscaled's KeyExpiry, seen {ts!r}")
        want_state = "NeedsLogin" if a in state["expired"] else "Running"
        if ts.get("backend_state") != want_state or ts.get("home_derp_region") != DERP_REGION:
            fail(f"{step} {a} tailscale",
                 f"expected {want_state}, home DERP {DERP_REGION!r}; seen {ts!r}")
        for b, fam in want_keys:
            if (b, fam) not in peers:
                continue
            pairs += 1
            e = expected_pair(state, a, b, fam)
            want_findings |= {(code, b, fam) for code in expected_problems(e)}
            bad, said = compare_pair(e, peers[(b, fam)])
            name = f"{step} {a}->{b}" + (f" {fam}" if state["dual_stack"] else "")
            if bad:
                fail(name, "; ".join(bad) + f" [doctor: {said}]")
            else:
                print(f"ok   {name}: {said}")
        seen_findings = {(f["code"], f["peer"], f.get("family", "ipv4") if f["peer"] else "")
                         for f in report["findings"]}
        missing = sorted(want_findings - seen_findings)
        extra = sorted(seen_findings - want_findings)
        names = " ".join(f"{c}({p}{' ' + fam if fam and state['dual_stack'] else ''})"
                         for c, p, fam in sorted(seen_findings)) or "none"
        if missing or extra:
            fail(f"{step} {a} findings",
                 f"missing {missing or 'nothing'}, unexpected {extra or 'nothing'}")
        else:
            print(f"ok   {step} {a} findings: {names}")
        want_rc = 1 if any(code in CRITICAL for code, _, _ in want_findings) else 0
        if rc != want_rc:
            fail(f"{step} {a} exit status", f"expected {want_rc} (1 = a critical finding), "
                                            f"seen {rc}")
        counts.append(f"{a}:{len(seen_findings)}")
    print(f"SUMMARY pairs={pairs} failed={failed} findings={','.join(counts)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
