#!/usr/bin/env python3
"""Prober benchmark: podpath, prometheus-smokeping-prober and fping side by side.

Prints figures; it is not a timed test. For each target count (default 200 and 1,000) it
builds namespaces of its own -- pb-src (the probers) joined by a veth pair to pb-dst (one
address per target) and by a tun delay relay (15 ms each way: a 30 ms path) to pb-far --
then runs the three probers at 1 Hz per target for --seconds on the same targets at once
and reports CPU seconds per 1,000 probes, peak RSS, loss, median RTT on the veth targets and
on the 30 ms target, and /metrics scrape time.

  sudo bench/prober_bench.py --build /work/build-prober [--targets 200,1000] [--seconds 60]

Then the same over IPv6 (--families ipv4,ipv6, the default): the namespaces get IPv6 addresses
only (fd00:220::/64 on the veth, fd00:230::/64 on the 30 ms path), podpath probes them over
its ICMPv6 socket and fping runs with -6 on the same targets; smokeping_prober is left out of
that table. --families ipv6 runs only that part.

fping runs as "fping -C <seconds> -p 1000 -i 0.5" (count mode rather than -l, so that it
prints every RTT and its median can be taken; the schedule is the same as -l).

To compare two podpath builds, --podpath-baseline runs a second podpath-exporter at the same
time on the same targets (same flags, its own port), reported as "podpath-baseline"; with
--no-fping --no-smokeping --scrape-seconds 0 only the two podpaths run, and --warmup leaves
their start-up out of the CPU per probe:

  sudo bench/prober_bench.py --build /work/build-prober --podpath-baseline /work/baseline/podpath-exporter \\
      --no-fping --no-smokeping --scrape-seconds 0 --warmup 10
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time

SRC, DST, FAR = "pb-src", "pb-dst", "pb-far"
FAR_TARGET = "10.230.0.2"


class Family:
    """The addresses of one run: IPv4 (as the benchmark always had) or IPv6."""

    def __init__(self, name):
        self.name = name
        self.v6 = name == "ipv6"
        if self.v6:
            self.src, self.src_far = "fd00:220::1/64", "fd00:230::1/64"
            self.far, self.far_prefix = "fd00:230::2", 64
        else:
            self.src, self.src_far = "10.220.0.1/16", "10.230.0.1/24"
            self.far, self.far_prefix = FAR_TARGET, 24

    def targets(self, n):
        if self.v6:
            return [f"fd00:220::{1 + i // 250:x}:{1 + i % 250:x}" for i in range(n)]
        return [f"10.220.{1 + i // 250}.{1 + i % 250}" for i in range(n)]

    def prefix(self):
        return 64 if self.v6 else 16

    def addr_flags(self):
        # No duplicate address detection to wait for: nothing else is on these links.
        return " nodad" if self.v6 else ""


# Fine buckets so the median can be read to a few microseconds from both histograms: 5 us
# steps to 150 us, then coarse, then 100 us steps around 30 ms.
BUCKETS = ([round(i * 5e-6, 7) for i in range(1, 31)] + [0.0002, 0.0005, 0.001, 0.005, 0.01, 0.02] +
           [round(0.0290 + i * 1e-4, 5) for i in range(0, 21)] + [0.05, 0.1, 1.0])


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def wait_ipv6_ready(ns, address):
    """IPv6 local routes come from addrconf's work queue after the link is up; a probe sent
    before is dropped and the neighbour asked again only a second later."""
    for _ in range(500):
        if f"local {address} " in sh(f"ip -n {ns} -6 route show table local").stdout:
            return
        time.sleep(0.01)
    sys.exit(f"{address} in {ns} never became usable")


def setup(n, relay, family):
    teardown()
    for ns in (SRC, DST, FAR):
        sh(f"ip netns add {ns} && ip -n {ns} link set lo up")
        if family.v6:
            sh(f"ip netns exec {ns} sysctl -qw net.ipv6.conf.default.accept_dad=0")
    sh(f"ip link add s0 netns {SRC} type veth peer name d0 netns {DST}")
    sh(f"ip -n {SRC} addr add {family.src} dev s0{family.addr_flags()} && "
       f"ip -n {SRC} link set s0 up")
    targets = family.targets(n)
    batch = "".join(f"addr add {t}/{family.prefix()} dev d0{family.addr_flags()}\n"
                    for t in targets) + "link set d0 up\n"
    subprocess.run(["ip", "-n", DST, "-batch", "-"], input=batch, text=True, check=True)
    # Permanent neighbours: with ~1,000 dynamic entries the table sits at gc_thresh3 (1,024,
    # not settable per namespace) and evictions lose probes of every prober alike.
    mac = sh(f"ip -n {DST} -j link show d0").stdout.split('"address":"')[1].split('"')[0]
    neigh = "".join(f"neigh replace {t} lladdr {mac} dev s0 nud permanent\n" for t in targets)
    subprocess.run(["ip", "-n", SRC, "-batch", "-"], input=neigh, text=True, check=True)
    sh(f"ip -n {SRC} tuntap add dev ts mode tun && ip -n {FAR} tuntap add dev tf mode tun")
    # Real-time priority: the emulated "truth" must not be starved by the probers under test
    # (smokeping_prober alone can take both cores at 1,000 targets).
    proc = subprocess.Popen(["chrt", "-f", "20", relay, "--delay-ms", "15", f"{SRC}:ts", f"{FAR}:tf"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    sh(f"ip -n {SRC} addr add {family.src_far} dev ts{family.addr_flags()} && "
       f"ip -n {SRC} link set ts up")
    sh(f"ip -n {FAR} addr add {family.far}/{family.far_prefix} dev tf{family.addr_flags()} && "
       f"ip -n {FAR} link set tf up")
    if family.v6:
        wait_ipv6_ready(DST, targets[-1])
        wait_ipv6_ready(FAR, family.far)
        wait_ipv6_ready(SRC, family.src.split("/")[0])
    return targets, proc


def teardown():
    for ns in (SRC, DST, FAR):
        sh(f"ip netns del {ns}", check=False)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scrape(port, times=1, compressed=False):
    """Median time of `times` scrapes (curl's time_total, inside the probers' namespace)."""
    took, body = [], ""
    out = f"/tmp/podpath-bench-scrape-{port}.txt"
    for _ in range(times):
        flag = "--compressed " if compressed else ""
        r = sh(f"ip netns exec {SRC} curl -sf {flag}-o {out} -w '%{{time_total}}' "
               f"http://127.0.0.1:{port}/metrics")
        took.append(float(r.stdout))
    body = open(out).read()
    os.unlink(out)
    return statistics.median(took), body


def in_src(port_cmd):
    return ["ip", "netns", "exec", SRC] + port_cmd


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(body):
    out = []
    for line in body.splitlines():
        m = SAMPLE.match(line)
        if m:
            out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def histogram_median(samples, name, keep):
    """Median of the sum of the histograms whose labels pass keep(), by interpolation."""
    buckets = {}
    for metric, labels, value in samples:
        if metric == name + "_bucket" and keep(labels):
            le = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
            buckets[le] = buckets.get(le, 0) + value
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] == 0:
        return float("nan")
    rank = buckets[bounds[-1]] / 2
    prev_bound, prev_count = 0.0, 0.0
    for b in bounds:
        if buckets[b] >= rank:
            if b == float("inf"):
                return prev_bound
            return prev_bound + (b - prev_bound) * (rank - prev_count) / max(buckets[b] - prev_count, 1)
        prev_bound, prev_count = b, buckets[b]
    return float("nan")


def total(samples, name, keep=lambda labels: True):
    return sum(v for m, labels, v in samples if m == name and keep(labels))


PODPATH_PORT, BASELINE_PORT = 19100, 19101


def start_podpath(args, static, extra, exporter=None, port=PODPATH_PORT):
    exporter = exporter or args.exporter
    help_text = sh(f"{exporter} --help").stdout
    others = sorted(set(re.findall(r"--collector\.([\w-]+),", help_text)) - {"prober"})
    # The bench reads every target's series (the 30 ms path's median), so no series budget
    # (docs/metrics/core.md) may withhold them; a binary older than the budget has no such flag.
    if "--metrics.max-series" in help_text:
        extra = ["--metrics.max-series", "0", "--metrics.max-bytes", "0"] + extra
    return subprocess.Popen(in_src([exporter, "--web.listen-address", f"127.0.0.1:{port}",
                                    "--prober.static-targets", static,
                                    "--prober.pmtu-interval", "0", "--no-prober.exposure",
                                    "--prober.max-peers", "0", "--log.level", "warn"] +
                                   [f"--no-collector.{c}" for c in others] + extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scrape_phase(args, static):
    """podpath alone with its default buckets: the production scrape size."""
    podpath = start_podpath(args, static, [])
    try:
        time.sleep(args.scrape_seconds)
        plain, body = scrape(19100, times=5)
        gzip, _ = scrape(19100, times=5, compressed=True)
        series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
        return {"plain": plain, "gzip": gzip, "series": series, "rss": peak_rss_mb(podpath.pid),
                "cpu": cpu_seconds(podpath.pid)}
    finally:
        podpath.kill()
        podpath.wait()


def run(n, args, family):
    targets, relay = setup(n, args.relay, family)
    all_targets = targets + [family.far]
    static = os.path.join("/tmp", f"podpath-bench-{n}.targets")
    with open(static, "w") as f:
        for i, t in enumerate(all_targets):
            f.write(f"t{i:05d} overlay {t}\n")
    far_peer = f"t{len(targets):05d}"
    bucket_flag = ",".join(repr(b) for b in BUCKETS)
    podpath = start_podpath(args, static, ["--prober.buckets", bucket_flag])
    baseline = None if not args.podpath_baseline else start_podpath(
        args, static, ["--prober.buckets", bucket_flag], args.podpath_baseline, BASELINE_PORT)
    smokeping = None if args.no_smokeping or family.v6 else subprocess.Popen(
        in_src(["prometheus-smokeping-prober", "--privileged",
                "--web.listen-address", "127.0.0.1:19374",
                "--buckets", bucket_flag, "--log.level", "error"] + all_targets),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fping = None
    if not args.no_fping:
        # fping prints every RTT on stderr at the end: a file, not a pipe nobody reads yet.
        fping_out = open(f"/tmp/podpath-bench-fping-{n}.txt", "w+")
        fping = subprocess.Popen(in_src(["fping"] + (["-6"] if family.v6 else []) +
                                        ["-C", str(args.seconds), "-p", "1000", "-i", "0.5", "-q"] +
                                        all_targets),
                                 stdout=subprocess.DEVNULL, stderr=fping_out)
        fping.out_file = fping_out
    try:
        return measure(n, args, family, far_peer, podpath, baseline, smokeping, fping)
    finally:
        for proc in (podpath, baseline, smokeping, fping, relay):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        teardown()


def podpath_reading(proc, port):
    """CPU seconds and probes sent so far, read one right after the other."""
    cpu = cpu_seconds(proc.pid)
    return cpu, total(parse(scrape(port)[1]), "podpath_probe_requests_total")


def measure(n, args, family, far_peer, podpath, baseline, smokeping, fping):
    scraped = (("podpath", podpath, PODPATH_PORT), ("podpath-baseline", baseline, BASELINE_PORT),
               ("smokeping_prober", smokeping, 19374))
    before = {}
    if args.warmup > 0:
        time.sleep(args.warmup)
        for name, proc, port in scraped[:2]:
            if proc is not None:
                before[name] = podpath_reading(proc, port)
    time.sleep(args.seconds)
    # fping stops by itself after its count; the others are measured at the same moment.
    results = {}
    # Each prober's CPU time and probe count at one moment: a scrape right after the reading,
    # before any prober is scraped again to time the scrapes.
    for name, proc, port in scraped:
        if proc is None:
            continue
        results[name] = {"cpu": cpu_seconds(proc.pid), "rss": peak_rss_mb(proc.pid)}
        # Only the family under test: every podpath series says which (family label).
        results[name]["samples"] = [
            sample for sample in parse(scrape(port)[1])
            if not name.startswith("podpath") or sample[1].get("family", family.name) == family.name]
    for name, proc, port in scraped:
        if proc is not None:
            results[name]["scrape"] = scrape(port, times=5 if name.startswith("podpath") else 1)[0]
    fping_err = None
    if fping is not None:
        _, status, usage = os.wait4(fping.pid, 0)
        fping.out_file.seek(0)
        fping_err = fping.out_file.read()
        fping.out_file.close()
        results["fping"] = {"cpu": usage.ru_utime + usage.ru_stime,
                            "rss": usage.ru_maxrss / 1024, "scrape": float("nan")}
    for proc in (podpath, baseline, smokeping):
        if proc is None:
            continue
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    if args.scrape_seconds > 0:
        static = podpath.args[podpath.args.index("--prober.static-targets") + 1]
        results["scrape_phase"] = scrape_phase(args, static)

    for name in ("podpath", "podpath-baseline"):
        if name not in results:
            continue
        s = results[name]["samples"]
        req = total(s, "podpath_probe_requests_total")
        resp = total(s, "podpath_probe_responses_total")
        cpu_before, probes_before = before.get(name, (0, 0))
        results[name]["cpu"] -= cpu_before
        results[name].update(
            probes=req - probes_before, loss=1 - resp / req,
            median=histogram_median(s, "podpath_probe_rtt_seconds",
                                    lambda lb: lb["peer"] != far_peer),
            far=histogram_median(s, "podpath_probe_rtt_seconds", lambda lb: lb["peer"] == far_peer),
            fallbacks=total(s, "podpath_prober_timestamp_fallbacks_total"))
    if fping is not None:
        summarize_fping(results["fping"], fping_err, family.far)
    if smokeping is None:
        return results
    # smokeping_prober
    s = results["smokeping_prober"]["samples"]
    req = total(s, "smokeping_requests_total")
    resp = total(s, "smokeping_response_duration_seconds_count")
    results["smokeping_prober"].update(
        probes=req, loss=1 - resp / req if req else float("nan"),
        median=histogram_median(s, "smokeping_response_duration_seconds",
                                lambda lb: lb.get("ip") != FAR_TARGET and lb.get("host") != FAR_TARGET),
        far=histogram_median(s, "smokeping_response_duration_seconds",
                             lambda lb: lb.get("ip") == FAR_TARGET or lb.get("host") == FAR_TARGET))
    return results


def summarize_fping(result, fping_err, far_target):
    """fping: "<target> : 0.03 0.02 - ..." per target, in ms."""
    near, far, sent, lost = [], [], 0, 0
    for line in fping_err.splitlines():
        if " : " not in line:
            continue
        host, values = line.split(" : ", 1)
        for v in values.split():
            sent += 1
            if v == "-":
                lost += 1
            else:
                (far if host.strip() == far_target else near).append(float(v) / 1000)
    result.update(probes=sent, loss=lost / sent if sent else float("nan"),
                  median=statistics.median(near) if near else float("nan"),
                  far=statistics.median(far) if far else float("nan"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="/work/build-prober")
    parser.add_argument("--targets", default="200,1000")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--no-smokeping", action="store_true",
                        help="leave smokeping_prober out (it needs more CPU than the machine has "
                        "at 1,000 targets, which disturbs the others' timing)")
    parser.add_argument("--no-fping", action="store_true", help="leave fping out")
    parser.add_argument("--families", default="ipv4,ipv6",
                        help="address families to run, each its own table (IPv6: podpath's "
                        "ICMPv6 socket beside fping -6; smokeping_prober only over IPv4)")
    parser.add_argument("--podpath-baseline", metavar="PATH",
                        help="another podpath-exporter binary to run at the same time on the "
                        "same targets, e.g. a build of main, reported as podpath-baseline")
    parser.add_argument("--warmup", type=int, default=0,
                        help="count the podpaths' CPU and probes only after this many seconds, "
                        "for --seconds more (start-up and the offset between two processes' "
                        "first rounds then cancel out); fping and smokeping_prober count from "
                        "their start")
    parser.add_argument("--scrape-seconds", type=int, default=10,
                        help="how long podpath runs alone (default buckets) before the scrapes; "
                        "0 skips that phase")
    args = parser.parse_args()
    args.exporter = os.path.join(args.build, "exporter", "podpath-exporter")
    args.relay = os.path.join(args.build, "bench", "podpath-delay-relay")
    if os.geteuid() != 0:
        sys.exit("needs root: creates network namespaces")
    for family, n in ((Family(f), int(x)) for f in args.families.split(",")
                      for x in args.targets.split(",")):
        print(f"\n== {family.name}: {n} veth targets + 1 target on a 30 ms relay path, 1 Hz each, "
              f"{args.seconds} s" + (f" after {args.warmup} s of warm-up" if args.warmup else "") +
              " ==")
        results = run(n, args, family)
        print(f"{'prober':18} {'probes':>8} {'CPU s/1k':>9} {'peak RSS':>9} {'loss':>7} "
              f"{'median veth':>12} {'median 30ms':>12} {'scrape':>9}")
        for name in ("podpath", "podpath-baseline", "fping", "smokeping_prober"):
            if name not in results:
                continue
            r = results[name]
            print(f"{name:18} {r['probes']:8.0f} {1000 * r['cpu'] / max(r['probes'], 1):9.3f} "
                  f"{r['rss']:7.1f}MB {100 * r['loss']:6.2f}% {1e6 * r['median']:9.1f} us "
                  f"{1e3 * r['far']:9.3f} ms {1e3 * r['scrape']:6.1f} ms")
        p = results["podpath"]
        if "podpath-baseline" in results:
            b = results["podpath-baseline"]
            print(f"podpath vs podpath-baseline: CPU per probe "
                  f"{100 * (p['cpu'] / p['probes'] / (b['cpu'] / b['probes']) - 1):+.1f} %, "
                  f"median veth RTT {1e6 * (p['median'] - b['median']):+.1f} us, "
                  f"timestamp fallbacks {p['fallbacks']:.0f} vs {b['fallbacks']:.0f}")
        if "fping" in results:
            f = results["fping"]
            ratio = p['cpu'] / p['probes'] / (f['cpu'] / f['probes'])
            print(f"podpath vs fping{' -6' if family.v6 else ''}: CPU per probe x{ratio:.2f}, "
                  f"median veth RTT {1e6 * (p['median'] - f['median']):+.1f} us, "
                  f"30 ms path {100 * (p['far'] - 0.030) / 0.030:+.2f} % from the emulated 30 ms "
                  f"(fping {100 * (f['far'] - 0.030) / 0.030:+.2f} %), "
                  f"timestamp fallbacks {p['fallbacks']:.0f}")
        if "scrape_phase" not in results:
            continue
        sp = results["scrape_phase"]
        print(f"podpath alone, default buckets, after {args.scrape_seconds} s: {sp['series']} series, "
              f"/metrics {1e3 * sp['plain']:.1f} ms plain, {1e3 * sp['gzip']:.1f} ms gzip, "
              f"peak RSS {sp['rss']:.1f} MB")
        print("(the scrape column above is with the fine benchmark buckets: 60 per target)")


if __name__ == "__main__":
    main()
