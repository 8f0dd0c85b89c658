#!/usr/bin/env python3
"""A stand-in podpath exporter for lab_check_test.sh: serves, on /metrics, every series of
the metrics contract that the dashboards query, for one node of the field report's cluster,
with counters that advance one probe per second so rate() has something to say.

    fake_exporter.py --listen 127.0.0.1:PORT --node lima-k3s-agent

Test fixture only (stdlib); the real exporter's output is tested in tests/e2e.
"""

import argparse
import http.server
import time

# node -> (group, peers: name -> (peer group, carrier, device, table, underlay, transport,
#                                  derp region, overlay RTT seconds, computed MTU, loss))
CLUSTER = {
    "lima-k3s-agent": ("lima", {
        "lima-k3s-agent-2": ("lima", "vxlan", "flannel.1", "main", "tailscale0", "tailscale-derp", "tok",
                             0.087, 1230, 0.0),
        "ip-172-26-2-70": ("lightsail", "tailscale-subnet-route", "tailscale0", "52", "tailscale0",
                           "tailscale-direct", "", 0.023, 1280, 0.0),
    }),
    "ip-172-26-2-70": ("lightsail", {
        "ip-172-26-3-146": ("lightsail", "vxlan", "flannel.1", "main", "eth0", "lan", "", 0.0003, 1450, 0.0),
        "lima-k3s-agent": ("lima", "tailscale-subnet-route", "tailscale0", "52", "tailscale0", "tailscale-direct",
                           "", 0.024, 1280, 0.5),
    }),
}
BUCKETS = [0.0005 * 2 ** i for i in range(14)]  # 0.5 ms .. 4 s, doubling


def labels(**pairs):
    return "{" + ",".join(f'{key}="{value}"' for key, value in pairs.items()) + "}"


def render(node, started):
    group, peers = CLUSTER[node]
    probes = int(time.monotonic() - started) + 1
    lines = [
        "# TYPE podpath_node_info gauge",
        f"podpath_node_info{labels(node=node, group=group)} 1",
        "# TYPE podpath_build_info gauge",
        f'podpath_build_info{labels(version="0.1.0", revision="fake")} 1',
    ]
    collectors = ("flannel", "kubernetes", "netlink", "prober", "tailscale")
    lines.append("# TYPE podpath_collector_success gauge")
    lines += [f"podpath_collector_success{labels(collector=c)} 1" for c in collectors]
    lines.append("# TYPE podpath_collector_duration_seconds gauge")
    lines += [f"podpath_collector_duration_seconds{labels(collector=c)} 0.002" for c in collectors]
    public_ip = "203.0.113.10" if node.startswith("ip-") else "192.168.105.2"
    scope = "global" if node.startswith("ip-") else "private"
    lines += [
        "# TYPE podpath_flannel_mtu_bytes gauge", "podpath_flannel_mtu_bytes 1450",
        "# TYPE podpath_link_mtu_bytes gauge",
        f"podpath_link_mtu_bytes{labels(device='flannel.1')} 1450",
        "# TYPE podpath_link_info gauge",
        f"podpath_link_info{labels(device='flannel.1', kind='vxlan', operstate='unknown')} 1",
        "# TYPE podpath_flannel_annotation_info gauge",
        "podpath_flannel_annotation_info" + labels(
            backend_type='vxlan', public_ip=public_ip, public_ip_scope=scope, vni='1',
            vtep_mac='32:f3:9e:5f:0e:68', public_ip_overwrite='') + " 1",
    ]
    groups = {}  # (peer group, same_group, target) -> [requests, answered, rtt sum, bucket counts]
    for peer, (peer_group, carrier, device, table, underlay, transport, derp, rtt, mtu, loss) in sorted(peers.items()):
        # Every per-peer series carries its road's family, as model::PeerLabels writes it.
        base = dict(peer=peer, peer_group=peer_group, same_group=str(peer_group == group).lower(),
                    family='ipv4')
        path = labels(**base, carrier=carrier, device=device, table=table, underlay_device=underlay,
                      transport=transport, derp_region=derp)
        lines.append(f"podpath_peer_path_info{path} 1")
        via_derp = int(transport == 'tailscale-derp')
        lines.append(f"podpath_peer_route_via_derp{labels(**base, derp_region=derp)} {via_derp}")
        lines.append(f"podpath_peer_path_mtu_bytes{labels(**base, source='computed')} {mtu}")
        lines.append(f"podpath_peer_path_mtu_bytes{labels(**base, source='probed')} {mtu}")
        lines.append(f"podpath_peer_flannel_consistent{labels(**base)} 1")
        lines.append(f"podpath_vxlan_exposed{labels(**base, address='203.0.113.11')} {int(scope == 'global')}")
        for target, seconds, lost in (("overlay", rtt, loss), ("underlay", rtt * 0.9, 0.0)):
            answered = int(probes * (1 - lost))
            cumulative = 0
            for bound in BUCKETS:
                cumulative = answered if seconds <= bound else 0
                bucket = labels(**base, target=target, le=repr(bound))
                lines.append(f"podpath_probe_rtt_seconds_bucket{bucket} {cumulative}")
            lines.append(f"podpath_probe_rtt_seconds_bucket{labels(**base, target=target, le='+Inf')} {answered}")
            lines.append(f"podpath_probe_rtt_seconds_sum{labels(**base, target=target)} {answered * seconds}")
            lines.append(f"podpath_probe_rtt_seconds_count{labels(**base, target=target)} {answered}")
            lines.append(f"podpath_probe_requests_total{labels(**base, target=target)} {probes}")
            lines.append(f"podpath_probe_responses_total{labels(**base, target=target)} {answered}")
            group_sums = groups.setdefault((peer_group, base["same_group"], target),
                                           [0, 0, 0.0, [0] * len(BUCKETS)])
            group_sums[0] += probes
            group_sums[1] += answered
            group_sums[2] += answered * seconds
            for i, bound in enumerate(BUCKETS):
                group_sums[3][i] += answered if seconds <= bound else 0
    # The prober's sums per peer group (podpath_group_probe_*), as the series budget keeps them.
    for (peer_group, same_group, target), (requests, answered, total, counts) in sorted(groups.items()):
        base = dict(peer_group=peer_group, same_group=same_group, family='ipv4', target=target)
        for bound, count in zip(BUCKETS, counts):
            lines.append(f"podpath_group_probe_rtt_seconds_bucket{labels(**base, le=repr(bound))} {count}")
        lines.append(f"podpath_group_probe_rtt_seconds_bucket{labels(**base, le='+Inf')} {answered}")
        lines.append(f"podpath_group_probe_rtt_seconds_sum{labels(**base)} {total}")
        lines.append(f"podpath_group_probe_rtt_seconds_count{labels(**base)} {answered}")
        lines.append(f"podpath_group_probe_requests_total{labels(**base)} {requests}")
        lines.append(f"podpath_group_probe_responses_total{labels(**base)} {answered}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--node", required=True, choices=sorted(CLUSTER))
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    started = time.monotonic()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = render(args.node, started).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    http.server.HTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
