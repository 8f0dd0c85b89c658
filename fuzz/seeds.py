#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target, taken from the project's real data, into
OUT/<target>/ (one file per seed). run-all.sh merges them into fuzz/corpus/<target>/ with
libFuzzer's -merge=1, which keeps only seeds that add coverage.

Sources: the lab API server's Node fixtures, the modules' testdata (captured netlink
replies, Tailscale status JSON and usermetrics, subnet.env files), the kubeconfigs and
static-target texts of the unit tests, the field report's values, and packets built here
the way the prober and the kernel build them.
"""
import glob
import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")


def write(out, target, data):
    if isinstance(data, str):
        data = data.encode()
    directory = os.path.join(out, target)
    os.makedirs(directory, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def node_fixtures():
    return sorted(glob.glob(os.path.join(TESTS, "lab/apiserver/fixtures/*.json")))


def ip_seeds(out):
    # The field report's addresses and prefixes.
    for text in ["10.42.1.0", "10.42.2.1/24", "10.42.0.0/16", "0.0.0.0/0", "100.84.0.1",
                 "192.168.105.2", "172.26.3.146/32", "255.255.255.255", "169.254.1.1/16",
                 "100.64.0.0/10", "127.0.0.1/8"]:
        write(out, "ip", text)


def listen_seeds(out):
    for text in [":18472", "0.0.0.0:18472", "127.0.0.1:0", "localhost:9100", "[::1]:18472",
                 "10.42.2.1:65535"]:
        write(out, "listen_address", text)


def accept_seeds(out):
    # What Prometheus 2.x and 3.x send, curl's default, and common Accept-Encodings.
    for text in [
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
            "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
            "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
            "escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
            "encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"
            "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "*/*", "text/plain", "gzip", "gzip, deflate, br", "identity;q=1, *;q=0",
            "x-gzip;q=0.5, gzip;q=0"]:
        write(out, "accept", text)


def metrics_protobuf_seeds(out):
    # The target builds families from the bytes (FuzzedDataProvider), so any bytes are an
    # input; these few give it histograms with observations and with laid-out native buckets
    # from the start: every byte value, runs of one value, and counts that keep choosing more.
    write(out, "metrics_protobuf", bytes(range(256)))
    for b in (0x00, 0x03, 0x7f, 0xff):
        write(out, "metrics_protobuf", bytes([b]) * 512)
    write(out, "metrics_protobuf", bytes((i * 37) % 256 for i in range(2048)))


def subnet_env_seeds(out):
    for path in glob.glob(os.path.join(TESTS, "flannel/testdata/*.env")):
        write(out, "subnet_env", read(path, "rb"))
    # The field report's agent, and a commented file with CRLF endings.
    write(out, "subnet_env", "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.2.1/24\n"
                             "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
    write(out, "subnet_env", "# flannel\r\nFLANNEL_NETWORK=10.42.0.0/16\r\n"
                             "FLANNEL_SUBNET=10.42.5.1/24\r\nFLANNEL_MTU=1230\r\n")


def node_seeds(out):
    for path in node_fixtures():
        doc = json.loads(read(path))
        items = doc.get("items", [doc]) if isinstance(doc, dict) else [doc]
        for item in items:
            write(out, "node", json.dumps(item, separators=(",", ":")))
            annotations = item.get("metadata", {}).get("annotations", {})
            for key in ("flannel.alpha.coreos.com/backend-data",
                        "flannel.alpha.coreos.com/public-ip"):
                if key in annotations:
                    write(out, "node", annotations[key])
    for text in ['{"VNI":1,"VtepMAC":"32:f3:9e:5f:0e:68"}', '{"VtepMAC":"32:F3:9E:5F:0E:68"}',
                 '{"PublicKey":"6CvVQ0c+xvL8uR/0ZqUQ0CFoNVr0J/YgGkHx7XbYrWQ=","Port":51820}',
                 "null", "32:f3:9e:5f:0e:68"]:
        write(out, "node", text)


def node_stream_seeds(out):
    nodes = []
    for path in node_fixtures():
        doc = json.loads(read(path))
        if isinstance(doc, dict) and doc.get("kind") == "NodeList":
            write(out, "node_stream", json.dumps(doc))
            nodes.extend(doc["items"])
        else:
            nodes.append(doc)
    small = [n for n in nodes if len(json.dumps(n)) < 6000][:3]
    write(out, "node_stream", json.dumps({"kind": "NodeList", "apiVersion": "v1",
                                          "metadata": {"resourceVersion": "1006",
                                                       "continue": "eyJ2IjoxfQ"},
                                          "items": small}))
    events = [{"type": "ADDED", "object": small[0]},
              {"type": "MODIFIED", "object": small[1]},
              {"type": "BOOKMARK", "object": {"kind": "Node",
                                              "metadata": {"resourceVersion": "1010"}}},
              {"type": "DELETED", "object": small[2]}]
    write(out, "node_stream", "\n".join(json.dumps(e) for e in events) + "\n")
    for node in small:
        write(out, "node_stream", json.dumps({"type": "ADDED", "object": node}))
    gone = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "too old resource version: 1000 (1006)", "reason": "Expired", "code": 410}
    write(out, "node_stream", json.dumps(gone))
    write(out, "node_stream", json.dumps({"type": "ERROR", "object": gone}) + "\n")


def kubeconfig_seeds(out):
    source = read(os.path.join(TESTS, "kubernetes/kubeconfig_test.cc"))
    for yaml in re.findall(r'R"\((.*?)\)"', source, re.S):
        write(out, "kubeconfig", yaml)
    write(out, "kubeconfig", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K")


def tailscale_seeds(out):
    for path in glob.glob(os.path.join(TESTS, "tailscale/testdata/status-*.json")):
        write(out, "tailscale_status", read(path, "rb"))
    # Bodies other people published (tests/fixtures/SOURCES.md): expired peers with KeyExpiry,
    # Health messages, older and newer shapes.
    for path in glob.glob(os.path.join(TESTS, "fixtures/tailscale-status/*.json")):
        write(out, "tailscale_status", read(path, "rb"))
    for text in ["2025-11-26T05:24:00Z", "0001-01-01T00:00:00Z", "2024-02-29T23:59:59.999999999+09:00",
                 "1970-01-01T00:00:00-00:30"]:
        write(out, "tailscale_status", text)
    for path in glob.glob(os.path.join(TESTS, "tailscale/testdata/*.txt")):
        write(out, "usermetrics", read(path, "rb"))
    write(out, "usermetrics", 'tailscaled_outbound_packets_total{path="derp",x="a\\"b\\\\c\\n"} '
                              '1.5e3 1700000000000\n# EOF\n')


def webconfig_seeds(out):
    # exporter-toolkit web config fixtures of the HTTP module's tests, good and bad.
    for path in glob.glob(os.path.join(TESTS, "http/testdata/web_config/*.yml")):
        write(out, "webconfig", read(path, "rb"))


def basic_auth_seeds(out):
    # Authorization headers: Prometheus' basic_auth (prometheus:secret), an empty password,
    # a password with colons, and other schemes.
    for text in ["Basic cHJvbWV0aGV1czpzZWNyZXQ=", "Basic dXNlcjo=", "basic YTpiOmM6ZA==",
                 "Bearer K10abc::server:def", "Basic  cHJvbWV0aGV1czpzZWNyZXQ"]:
        write(out, "basic_auth", text)


def netlink_seeds(out):
    for path in glob.glob(os.path.join(TESTS, "netlink/testdata/**/*.bin"), recursive=True):
        write(out, "netlink", read(path, "rb"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp(kind, identifier, sequence, cookie):
    payload = cookie + struct.pack("!H", sequence) + bytes(range(18, 18 + 46))
    header = struct.pack("!BBHHH", kind, 0, 0, identifier, sequence)
    csum = checksum(header + payload)
    return struct.pack("!BBHHH", kind, 0, csum, identifier, sequence) + payload


def ipv4(src, dst, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0x4000, 64, 1, 0,
                         bytes(src), bytes(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def prober_seeds(out):
    cookie = bytes([0x70, 0x6f, 0x64, 0x70, 0x61, 0x74, 0x68, 0x21])
    request = icmp(8, 0x1234, 7, cookie)
    reply = icmp(0, 0x1234, 7, cookie)
    packet = ipv4([10, 42, 2, 0], [10, 42, 0, 0], reply)
    ethernet = bytes.fromhex("32f39e5f0e68b614d59f82a6") + b"\x08\x00"
    vxlan = b"\x08\x00\x00\x00" + struct.pack("!I", 1 << 8) + ethernet + \
        ipv4([10, 42, 2, 0], [10, 42, 0, 0], request)
    for data in [request, reply, packet, ethernet + ipv4([10, 42, 2, 0], [10, 42, 0, 0], request),
                 vxlan, b"b6:14:d5:9f:82:a6"]:
        write(out, "prober_packet", data)
    for text in ["# benchmark targets\nb overlay 10.200.0.2 zone-1\n\n"
                 "a underlay 10.200.1.2   # comment\nb underlay 10.200.0.3\n",
                 "lima-k3s-agent-2 overlay 10.42.3.0 sapporo\n"
                 "ip-172-26-2-70 underlay 172.26.2.70 tokyo\n",
                 "1s", "250ms", "1m30s", "0.5", "0.0001,0.001,0.01,0.1,1"]:
        write(out, "prober_options", text)


def wireguard_seeds(out):
    fixtures = os.path.join(TESTS, "fixtures/wg")
    # The published `wg show all dump` texts and the cross-platform page's get=1 reply.
    for path in sorted(glob.glob(os.path.join(fixtures, "*dump*.txt"))):
        write(out, "wireguard_dump", read(path, "rb"))
    for path in sorted(glob.glob(os.path.join(fixtures, "xplatform-uapi-*.txt"))):
        write(out, "wireguard_uapi", read(path, "rb"))
    # What wireguard-go writes for one of flannel's peers (device/uapi.go IpcGetOperation).
    write(out, "wireguard_uapi",
          "listen_port=51820\npublic_key=" + "ab" * 32 + "\npreshared_key=" + "00" * 32 +
          "\nprotocol_version=1\nendpoint=192.168.68.148:51820\n"
          "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\ntx_bytes=6676\n"
          "rx_bytes=6881\npersistent_keepalive_interval=25\nallowed_ip=10.42.1.0/24\n"
          "errno=0\n\n")

    # A WG_CMD_GET_DEVICE dump of flannel-wg as tests/wireguard/genl_builder.h builds it.
    def attr(kind, payload):
        data = struct.pack("=HH", 4 + len(payload), kind) + payload
        return data + b"\0" * (-len(data) % 4)

    def nested(kind, children):
        return attr(kind | 0x8000, b"".join(children))

    def message(kind, attributes):
        body = struct.pack("=BBH", 0, 1, 0) + b"".join(attributes)
        return struct.pack("=IHHII", 16 + len(body), kind, 2, 1, 0) + body

    sockaddr = struct.pack("=H", 2) + struct.pack("!H", 51820) + bytes([192, 168, 68, 148]) + \
        b"\0" * 8
    allowed = nested(0, [attr(1, struct.pack("=H", 2)), attr(2, bytes([10, 42, 1, 0])),
                         attr(3, struct.pack("=B", 24))])
    peer = nested(0, [attr(1, b"\x33" * 32), attr(4, sockaddr), attr(5, struct.pack("=H", 25)),
                      attr(6, struct.pack("=qq", 1700000000, 5)),
                      attr(7, struct.pack("=Q", 6881)), attr(8, struct.pack("=Q", 6676)),
                      nested(9, [allowed]), attr(10, struct.pack("=I", 1))])
    device = message(0x1c, [attr(2, b"flannel-wg\0"), attr(4, b"\x22" * 32),
                            attr(6, struct.pack("=H", 51820)), nested(8, [peer])])
    done = struct.pack("=IHHIIi", 20, 3, 2, 1, 0, 0)
    write(out, "wireguard_genl", device + done)
    write(out, "wireguard_genl", struct.pack("=IHHIIi", 20, 2, 0, 1, 0, -19))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py OUT_DIR")
    out = sys.argv[1]
    for make in (ip_seeds, listen_seeds, accept_seeds, metrics_protobuf_seeds, subnet_env_seeds, node_seeds,
                 node_stream_seeds, kubeconfig_seeds, tailscale_seeds, webconfig_seeds,
                 basic_auth_seeds,
                 netlink_seeds, prober_seeds, wireguard_seeds):
        make(out)


if __name__ == "__main__":
    main()
