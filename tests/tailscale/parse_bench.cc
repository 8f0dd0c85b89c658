// Prints how long parsing and mapping a 5,000-peer LocalAPI status takes on this machine:
//   tailscale_parse_bench [peers] [rounds]
// Figures, not assertions: the test suite checks correctness, this program the cost.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "big_status.h"
#include "tailscale/collector.h"
#include "tailscale/mapping.h"
#include "tailscale/status.h"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const int peers = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 20;
  const std::string body = podpath::tailscale::testing::big_status_json(peers);
  const podpath::model::PeerSet set = podpath::tailscale::testing::big_peer_set(peers);
  std::vector<double> dom_ms, parse_ms, map_ms, collect_ms;
  size_t mapped = 0;
  for (int r = 0; r < rounds; ++r) {
    // nlohmann's DOM alone, to see how much of parse_status is the JSON library itself.
    auto d0 = Clock::now();
    auto dom = nlohmann::json::parse(body);
    dom_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - d0).count());
    auto t0 = Clock::now();
    auto parsed = podpath::tailscale::parse_status(body);
    auto t1 = Clock::now();
    if (!parsed) {
      fmt::print(stderr, "parse failed: {}\n", parsed.error());
      return 1;
    }
    podpath::tailscale::Snapshot snapshot;
    snapshot.availability = podpath::tailscale::Availability::kAvailable;
    snapshot.mapping = podpath::tailscale::map_peers(set, *parsed);
    auto t2 = Clock::now();
    snapshot.status = std::move(*parsed);
    auto result = podpath::tailscale::collect_snapshot(snapshot);
    auto t3 = Clock::now();
    mapped = snapshot.mapping.peers.size();
    parse_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    map_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    collect_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  fmt::print("peers={} status_bytes={} mapped={} rounds={}\n", peers, body.size(), mapped, rounds);
  fmt::print("json DOM only median {:.2f} ms  min {:.2f} ms\n", median(dom_ms),
             *std::min_element(dom_ms.begin(), dom_ms.end()));
  fmt::print("parse_status  median {:.2f} ms  min {:.2f} ms\n", median(parse_ms),
             *std::min_element(parse_ms.begin(), parse_ms.end()));
  fmt::print("map_peers     median {:.2f} ms  min {:.2f} ms\n", median(map_ms),
             *std::min_element(map_ms.begin(), map_ms.end()));
  fmt::print("collect       median {:.2f} ms  min {:.2f} ms\n", median(collect_ms),
             *std::min_element(collect_ms.begin(), collect_ms.end()));
  return 0;
}
