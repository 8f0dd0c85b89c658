// Prints how long rendering /metrics takes for 10, 1,000 and 10,000 synthetic peers, each
// with a 20-bucket RTT histogram per target and the per-peer gauges of the metrics contract.
// A program that prints figures, not a timed test: run build/bench/podpath-render-bench.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "http/gzip.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"

using namespace podpath::metrics;

namespace {

std::vector<MetricFamily> synthetic_families(int peers) {
  MetricFamily path("podpath_peer_path_info", "The road a pod packet to the peer takes.",
                    MetricType::kInfo);
  MetricFamily mtu("podpath_peer_path_mtu_bytes", "Path MTU to the peer.", MetricType::kGauge);
  MetricFamily rtt("podpath_probe_rtt_seconds", "ICMP echo round trip.", MetricType::kHistogram);
  MetricFamily requests("podpath_probe_requests_total", "Echo requests sent.",
                        MetricType::kCounter);
  MetricFamily responses("podpath_probe_responses_total", "Echo replies received.",
                         MetricType::kCounter);
  auto bounds = exponential_buckets(50e-6, 2, 20);
  for (int i = 0; i < peers; ++i) {
    std::string peer = fmt::format("node-{:05d}", i);
    std::string group = fmt::format("zone-{}", i % 8);
    Labels base{
        {"peer", peer}, {"peer_group", group}, {"same_group", i % 8 == 0 ? "true" : "false"}};
    auto with = [&](std::initializer_list<std::pair<std::string, std::string>> extra) {
      Labels l = base;
      l.insert(l.end(), extra.begin(), extra.end());
      return l;
    };
    path.add(with({{"carrier", "vxlan"},
                   {"device", "flannel.1"},
                   {"table", "254"},
                   {"underlay_device", "eth0"},
                   {"transport", "lan"},
                   {"derp_region", ""}}),
             1);
    mtu.add(with({{"source", "computed"}}), 1450);
    mtu.add(with({{"source", "probed"}}), 1450);
    for (const char* target : {"overlay", "underlay"}) {
      HistogramAccumulator h(bounds);
      for (int k = 0; k < 60; ++k) h.observe(0.0003 + 0.00001 * ((i + k) % 17));
      rtt.add_histogram(with({{"target", target}}), h.snapshot());
      requests.add(with({{"target", target}}), 3600);
      responses.add(with({{"target", target}}), 3598);
    }
  }
  return {path, mtu, rtt, requests, responses};
}

size_t count_series(const std::vector<MetricFamily>& families) {
  size_t n = 0;
  for (const auto& f : families)
    for (const auto& m : f.metrics)
      n += f.type == MetricType::kHistogram ? m.histogram.upper_bounds.size() + 3 : 1;
  return n;
}

}  // namespace

int main() {
  using Clock = std::chrono::steady_clock;
  std::printf("%8s %10s %12s %13s %10s %10s %12s %10s %10s %10s %10s %10s\n", "peers", "series",
              "bytes", "normalize_ms", "text_ms", "om_ms", "gzip_bytes", "gzip_ms", "total_ms",
              "pb_bytes", "pb_gzip", "pb_ms");
  for (int peers : {10, 1000, 10000}) {
    const int runs = peers >= 10000 ? 5 : 21;
    std::vector<double> normalize_ms, text_ms, om_ms, gzip_ms, total_ms, pb_ms;
    size_t bytes = 0, gz_bytes = 0, series = 0, pb_bytes = 0, pb_gz_bytes = 0;
    for (int r = 0; r < runs; ++r) {
      auto families = synthetic_families(peers);  // built fresh, as a scrape does
      auto ms = [](Clock::time_point from, Clock::time_point to) {
        return std::chrono::duration<double, std::milli>(to - from).count();
      };
      auto t0 = Clock::now();
      auto normalized = normalize(std::move(families));
      auto t1 = Clock::now();
      std::string text = render(normalized, Format::kText004);
      auto t2 = Clock::now();
      std::string om = render(normalized, Format::kOpenMetrics100);
      auto t3 = Clock::now();
      std::string gz = podpath::http::gzip_compress(text);
      auto t4 = Clock::now();
      // The protobuf exposition (classic and native buckets) of the same families.
      std::string pb = render(normalized, Format::kProtobufDelimited);
      auto t5 = Clock::now();
      pb_ms.push_back(ms(t4, t5));
      pb_bytes = pb.size();
      pb_gz_bytes = podpath::http::gzip_compress(pb).size();
      normalize_ms.push_back(ms(t0, t1));
      text_ms.push_back(ms(t1, t2));
      om_ms.push_back(ms(t2, t3));
      gzip_ms.push_back(ms(t3, t4));
      total_ms.push_back(ms(t0, t2) + ms(t3, t4));
      bytes = text.size();
      gz_bytes = gz.size();
      series = count_series(normalized);
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("%8d %10zu %12zu %13.2f %10.2f %10.2f %12zu %10.2f %10.2f %10zu %10zu %10.2f\n",
                peers, series, bytes, median(normalize_ms), median(text_ms), median(om_ms),
                gz_bytes, median(gzip_ms), median(total_ms), pb_bytes, pb_gz_bytes, median(pb_ms));
  }
  std::printf(
      "medians of repeated runs; total = normalize + text + gzip, what a gzip scrape of text "
      "costs; pb_* = the delimited protobuf exposition of the same families.\n");
  return 0;
}
