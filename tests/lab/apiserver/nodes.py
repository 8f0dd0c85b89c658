#!/usr/bin/env python3
"""Node objects that look like the k3s nodes podpath watches.

Used by fake-apiserver (initial and synthetic nodes) and as a CLI that prints
NodeLists or rewrites tests/lab/apiserver/fixtures/. Everything is deterministic
in its inputs (names, index, creation time): uids are uuid5 of the name and VTEP
MACs are derived from a hash of the name, so fixtures and golden files are stable.

Field shapes follow what k3s v1.34 and flannel write; the annotation meanings are
flannel's pkg/subnet/kube/annotations.go, and tests/fixtures/nodes/ holds real Node
objects of the same shape (sources in tests/fixtures/SOURCES.md).
"""

import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import sys
import uuid

K3S_VERSION = "v1.34.3+k3s1"
CONTAINERD = "containerd://2.1.5-k3s1"
FLANNEL = "flannel.alpha.coreos.com/"
# Fixtures must not change with the calendar: they use this creation time.
FIXTURE_CREATED = "2025-07-05T03:12:45Z"
UUID_NS = uuid.UUID("5f1d6a52-6a9e-4c55-9d0c-0dd1a7b0c0de")


def rfc3339(t):
    """datetime or str -> Kubernetes' second-precision UTC timestamp."""
    if isinstance(t, str):
        return t
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def vtep_mac(name):
    """A stable locally administered unicast MAC, as the kernel gives flannel.1."""
    h = bytearray(hashlib.sha256(("vtep:" + name).encode()).digest()[:6])
    h[0] = (h[0] & 0xFC) | 0x02  # locally administered, unicast
    return ":".join("%02x" % b for b in h)


def wg_public_key(name):
    """A stable 32-byte key in WireGuard's base64 form."""
    return base64.b64encode(hashlib.sha256(("wg:" + name).encode()).digest()).decode()


def vxlan_backend_data(name, vni=1):
    return json.dumps({"VNI": vni, "VtepMAC": vtep_mac(name)}, separators=(",", ":"))


def make_node(name, internal_ip, pod_cidr, public_ip=None, external_ip=None,
              role="agent", zone=None, node_type=None, arch="amd64",
              os_image="Ubuntu 24.04.3 LTS", kernel="6.8.0-71-generic",
              backend_type="vxlan", backend_data=None, public_ip_overwrite=None,
              pod_cidrs=None, internal_ip6=None, public_ipv6=None,
              backend_v6_data=None, created=FIXTURE_CREATED, ready=True,
              unschedulable=False, server_url="https://100.99.0.1:6443",
              extra_labels=None, extra_annotations=None, flannel=True,
              cpu="4", memory_kib=8 * 1024 * 1024):
    """One k3s Node object (a dict as the API returns it, minus resourceVersion).

    role: "server" (control-plane + etcd, as the field report's Lightsail nodes) or
    "agent". public_ip defaults to internal_ip, which is where flannel lands when the
    default route goes out of the tailnet interface. backend_data=None means "the
    backend's natural value" (vxlan: VNI + VtepMAC from the name; wireguard: key and
    port; host-gw / extension: JSON null). flannel=False leaves out the flannel
    annotations (a node flannel has not registered yet).
    """
    if public_ip is None:
        public_ip = internal_ip
    if pod_cidrs is None:
        pod_cidrs = [pod_cidr] if pod_cidr else []
    if backend_data is None:
        if backend_type == "vxlan":
            backend_data = vxlan_backend_data(name)
        elif backend_type == "wireguard":
            backend_data = json.dumps({"PublicKey": wg_public_key(name), "Port": 51820},
                                      separators=(",", ":"))
        else:
            backend_data = "null"  # host-gw and extension publish no backend data

    internal_ips = [internal_ip] + ([internal_ip6] if internal_ip6 else [])
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/instance-type": "k3s",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "k3s",
    }
    if role == "server":
        labels["node-role.kubernetes.io/control-plane"] = "true"
        labels["node-role.kubernetes.io/etcd"] = "true"
    if zone:
        labels["topology.kubernetes.io/zone"] = zone
    if node_type:
        labels["node-type"] = node_type
    labels.update(extra_labels or {})

    # k3s records the command line with secrets masked; the shape matters more than
    # the exact flags.
    args = ["server"] if role == "server" else ["agent"]
    args += ["--node-ip", ",".join(internal_ips)]
    if external_ip:
        args += ["--node-external-ip", external_ip]
    args += ["--flannel-iface", "tailscale0"]
    if role == "server":
        args += ["--flannel-backend", backend_type if backend_type != "wireguard"
                 else "wireguard-native", "--token", "********"]
    else:
        args += ["--server", server_url, "--token", "********"]
    annotations = {
        "alpha.kubernetes.io/provided-node-ip": ",".join(internal_ips),
        "k3s.io/hostname": name,
        "k3s.io/internal-ip": ",".join(internal_ips),
        "k3s.io/node-args": json.dumps(args, separators=(",", ":")),
        "k3s.io/node-config-hash": base64.b32encode(
            hashlib.sha256(("cfg:" + name).encode()).digest()[:32]).decode().rstrip("=")[:52] + "====",
        "k3s.io/node-env": "{}" if role == "server" else json.dumps(
            {"K3S_TOKEN": "********", "K3S_URL": server_url}, separators=(",", ":")),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    if external_ip:
        annotations["k3s.io/external-ip"] = external_ip
    if role == "server":
        annotations["etcd.k3s.cattle.io/local-snapshots-timestamp"] = rfc3339(created)
        annotations["etcd.k3s.cattle.io/node-address"] = internal_ip
        annotations["etcd.k3s.cattle.io/node-name"] = name + "-" + hashlib.sha256(
            name.encode()).hexdigest()[:8]
    if flannel:
        annotations[FLANNEL + "backend-data"] = backend_data
        annotations[FLANNEL + "backend-type"] = backend_type
        annotations[FLANNEL + "kube-subnet-manager"] = "true"
        annotations[FLANNEL + "public-ip"] = public_ip
        if public_ip_overwrite:
            annotations[FLANNEL + "public-ip-overwrite"] = public_ip_overwrite
        if public_ipv6:
            annotations[FLANNEL + "public-ipv6"] = public_ipv6
            annotations[FLANNEL + "backend-v6-data"] = backend_v6_data or (
                json.dumps({"VNI": 1, "VtepMAC": vtep_mac(name + "/v6")}, separators=(",", ":"))
                if backend_type == "vxlan" else backend_data)
    annotations.update(extra_annotations or {})

    created = rfc3339(created)
    addresses = [{"address": ip, "type": "InternalIP"} for ip in internal_ips]
    if external_ip:
        addresses += [{"address": ip, "type": "ExternalIP"} for ip in external_ip.split(",")]
    addresses.append({"address": name, "type": "Hostname"})

    def cond(ctype, status, reason, message):
        return {"lastHeartbeatTime": created, "lastTransitionTime": created,
                "message": message, "reason": reason, "status": status, "type": ctype}

    conditions = []
    if role == "server":
        # k3s adds this one on etcd members.
        conditions.append(cond("EtcdIsVoter", "True", "MemberNotLearner",
                               "Node is a voting member of the etcd cluster"))
    conditions += [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
        if ready else
        cond("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."),
    ]
    capacity = {"cpu": str(cpu), "ephemeral-storage": "40470732Ki",
                "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                "memory": "%dKi" % memory_kib, "pods": "110"}
    allocatable = dict(capacity, **{"ephemeral-storage": "39370618543"})
    ident = uuid.uuid5(UUID_NS, "machine:" + name)

    spec = {"podCIDR": pod_cidr, "podCIDRs": pod_cidrs, "providerID": "k3s://" + name}
    if not pod_cidr:
        del spec["podCIDR"], spec["podCIDRs"]
    if unschedulable:
        spec["unschedulable"] = True
        spec["taints"] = [{"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable",
                           "timeAdded": created}]
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": str(uuid.uuid5(UUID_NS, "node:" + name)),
            "creationTimestamp": created,
            "labels": labels,
            "annotations": annotations,
            # k3s's node controller puts this on every node (wrangler OnRemove handler).
            "finalizers": ["wrangler.cattle.io/node"],
        },
        "spec": spec,
        "status": {
            "addresses": addresses,
            "allocatable": allocatable,
            "capacity": capacity,
            "conditions": conditions,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": arch,
                "bootID": str(uuid.uuid5(UUID_NS, "boot:" + name)),
                "containerRuntimeVersion": CONTAINERD,
                "kernelVersion": kernel,
                "kubeProxyVersion": K3S_VERSION,
                "kubeletVersion": K3S_VERSION,
                "machineID": ident.hex,
                "operatingSystem": "linux",
                "osImage": os_image,
                "systemUUID": str(ident),
            },
        },
    }


# The cluster of the field report, before the vmnet change: every node reaches the
# others through the tailnet, so the agents' flannel public-ip is their 100.x address.
FIELD_REPORT = [
    dict(name="ip-172-26-2-70", role="server", internal_ip="100.99.0.1",
         external_ip="203.0.113.10", public_ip="172.26.2.70", pod_cidr="10.42.0.0/24",
         zone="tokyo", node_type="lightsail", os_image="Amazon Linux 2023.9.20251117",
         kernel="6.1.158-178.288.amzn2023.x86_64", cpu="2", memory_kib=2 * 1024 * 1024),
    dict(name="ip-172-26-3-146", role="server", internal_ip="100.71.0.1",
         external_ip="203.0.113.11", public_ip="172.26.3.146", pod_cidr="10.42.1.0/24",
         zone="tokyo", node_type="lightsail", os_image="Amazon Linux 2023.9.20251117",
         kernel="6.1.158-178.288.amzn2023.x86_64", cpu="2", memory_kib=2 * 1024 * 1024),
    dict(name="lima-k3s-agent", internal_ip="100.84.0.1", pod_cidr="10.42.2.0/24",
         zone="sapporo", node_type="lima", arch="arm64", kernel="6.8.0-88-generic"),
    dict(name="lima-k3s-agent-2", internal_ip="100.98.0.1", pod_cidr="10.42.3.0/24",
         zone="sapporo", node_type="lima", arch="arm64", kernel="6.8.0-88-generic"),
    dict(name="lima-k3s-agent-3", internal_ip="100.117.0.1", pod_cidr="10.42.4.0/24",
         zone="sapporo", node_type="lima", arch="arm64", kernel="6.8.0-88-generic"),
    dict(name="lima-k3s-agent-4", internal_ip="100.90.0.1", pod_cidr="10.42.5.0/24",
         zone="sapporo", node_type="lima", arch="arm64", os_image="Ubuntu 25.10",
         kernel="6.17.0-6-generic"),
]


def field_report_nodes(created=FIXTURE_CREATED):
    return [make_node(created=created, **spec) for spec in FIELD_REPORT]


# The field report's nodes take 10.42.0-5; synthetic ones continue from there.
SYNTHETIC_FIRST_SUBNET = 6
SYNTHETIC_ZONES = [("sapporo", "lima"), ("tokyo", "lightsail"), ("osaka", "baremetal"),
                   ("sapporo", "lima"), ("fukuoka", "baremetal")]


def synthetic_pod_cidr(i):
    """The i-th synthetic /24: 10.42.6.0 .. 10.42.255.0, then 10.44.0.0/16, 10.45...

    10.43.0.0/16 is k3s's service CIDR, so it is skipped. (A real cluster this big
    would need a wider --cluster-cidr; the exporter must not assume one /16.)
    """
    n = i + SYNTHETIC_FIRST_SUBNET
    block, third = divmod(n, 256)
    second = 42 if block == 0 else 43 + block
    if second > 255:
        raise ValueError("synthetic node index %d out of range" % i)
    return "10.%d.%d.0/24" % (second, third)


def synthetic_name(i):
    return "k3s-node-%05d" % i


def synthetic_node(i, created=FIXTURE_CREATED):
    """The i-th synthetic agent; every field is a function of i alone."""
    zone, node_type = SYNTHETIC_ZONES[i % len(SYNTHETIC_ZONES)]
    # Tailnet addresses from 100.64.0.0/10 (skipping .0), LAN addresses for flannel.
    internal = str(ipaddress.IPv4Address("100.64.0.0") + 1 + i)
    third, fourth = divmod(i, 250)
    lan = "192.168.%d.%d" % (third, fourth + 2)
    return make_node(name=synthetic_name(i), internal_ip=internal, public_ip=lan,
                     pod_cidr=synthetic_pod_cidr(i), zone=zone, node_type=node_type,
                     arch="arm64" if node_type == "lima" else "amd64", created=created)


def fixtures():
    """name -> object for fixtures/*.json: one file per backend and per malformation."""
    fr = {n["metadata"]["name"]: n for n in field_report_nodes()}
    out = {
        "field-report-nodelist": node_list(field_report_nodes(), "1000"),
        "vxlan-server": fr["ip-172-26-2-70"],
        "vxlan-agent": fr["lima-k3s-agent"],
        "vxlan-public-ip-overwrite": make_node(
            name="ip-172-26-3-146", role="server", internal_ip="100.71.0.1",
            external_ip="203.0.113.11", public_ip="172.26.3.146",
            public_ip_overwrite="203.0.113.11", pod_cidr="10.42.1.0/24",
            zone="tokyo", node_type="lightsail"),
        "vxlan-legacy-backend-data": make_node(
            name="old-vxlan", internal_ip="100.70.0.1", pod_cidr="10.42.7.0/24",
            backend_data=json.dumps({"VtepMAC": vtep_mac("old-vxlan")}, separators=(",", ":"))),
        "wireguard-native": make_node(
            name="wg-node", internal_ip="100.72.0.1", public_ip="192.168.1.20",
            pod_cidr="10.42.8.0/24", backend_type="wireguard"),
        "host-gw": make_node(
            name="hostgw-node", internal_ip="192.168.1.21", pod_cidr="10.42.9.0/24",
            backend_type="host-gw"),
        "tailscale-extension": make_node(
            name="ts-node", internal_ip="100.73.0.1", pod_cidr="10.42.10.0/24",
            backend_type="extension"),
        "dual-stack": make_node(
            name="dual-node", internal_ip="100.74.0.1", internal_ip6="fd7a:115c:a1e0::4a01",
            public_ip="192.168.1.22", public_ipv6="2001:db8:1::22",
            pod_cidr="10.42.11.0/24", pod_cidrs=["10.42.11.0/24", "2001:cafe:42::/64"]),
        "not-ready": make_node(
            name="down-node", internal_ip="100.75.0.1", pod_cidr="10.42.12.0/24", ready=False),
        "cordoned": make_node(
            name="cordoned-node", internal_ip="100.76.0.1", pod_cidr="10.42.13.0/24",
            unschedulable=True),
        "no-flannel-annotations": make_node(
            name="new-node", internal_ip="100.77.0.1", pod_cidr="10.42.14.0/24", flannel=False),
        "no-pod-cidr": make_node(
            name="nocidr-node", internal_ip="100.78.0.1", pod_cidr=None),
        "malformed-backend-data": make_node(
            name="bad-json", internal_ip="100.79.0.1", pod_cidr="10.42.15.0/24",
            backend_data='{"VNI":1,"VtepMAC":"32:f3:9e:5f:0e:68"'),
        "malformed-public-ip": make_node(
            name="bad-ip", internal_ip="100.80.0.1", public_ip="172.26.2.700",
            pod_cidr="10.42.16.0/24"),
        "malformed-vtep-mac": make_node(
            name="bad-mac", internal_ip="100.81.0.1", pod_cidr="10.42.17.0/24",
            backend_data='{"VNI":1,"VtepMAC":"32:f3:9e:5f:0e"}'),
        "malformed-pod-cidr": make_node(
            name="bad-cidr", internal_ip="100.82.0.1", pod_cidr="10.42.300.0/24"),
        "malformed-wireguard-key": make_node(
            name="bad-wg", internal_ip="100.83.0.1", pod_cidr="10.42.18.0/24",
            backend_type="wireguard", backend_data='{"PublicKey":"not-base64!","Port":"51820"}'),
    }
    # A fixture is what a GET returns, so it carries a resourceVersion.
    out = json.loads(json.dumps(out))  # no shared sub-objects between fixtures
    for i, obj in enumerate(out["field-report-nodelist"]["items"]):
        obj["metadata"]["resourceVersion"] = str(995 + i)
    for i, (name, obj) in enumerate(sorted(out.items())):
        if obj["kind"] == "Node":
            obj["metadata"]["resourceVersion"] = str(1001 + i)
    return out


def node_list(items, resource_version):
    return {"kind": "NodeList", "apiVersion": "v1",
            "metadata": {"resourceVersion": resource_version}, "items": items}


def dump(obj):
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("field-report", help="NodeList of the six field-report nodes")
    s = sub.add_parser("synthetic", help="NodeList of N synthetic nodes")
    s.add_argument("count", type=int)
    f = sub.add_parser("fixtures", help="write fixtures/*.json")
    f.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
    a = p.parse_args(argv)
    if a.cmd == "field-report":
        sys.stdout.write(dump(node_list(field_report_nodes(), "1000")))
    elif a.cmd == "synthetic":
        sys.stdout.write(dump(node_list([synthetic_node(i) for i in range(a.count)], "1000")))
    else:
        os.makedirs(a.out, exist_ok=True)
        for name, obj in sorted(fixtures().items()):
            with open(os.path.join(a.out, name + ".json"), "w") as fh:
                fh.write(dump(obj))
    return 0


if __name__ == "__main__":
    sys.exit(main())
