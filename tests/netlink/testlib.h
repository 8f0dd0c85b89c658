// Shared by the netlink unit tests (over captured replies), the namespace tests (over the
// live kernel) and the capture tool: the capture file format, a KernelSource replaying it,
// what iproute2 prints for the same state, and the comparison of the two.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netlink/kernel.h"
#include "netlink/session.h"

namespace podpath::netlink::testing {

// The destinations tests/netlink/topology.sh gives a meaning (peers' overlay gateways and
// VTEP addresses, an own address, a local one).
std::vector<model::IpAddress> topology_destinations();

// Writes every dump and a route lookup per destination as DIR/<dump>.bin and
// DIR/route-get-<address>.bin.
std::string save_capture(KernelSession& session, const std::vector<model::IpAddress>& destinations,
                         const std::string& dir);

// Replays a capture directory; a lookup that was not captured is an exchange error.
class FixtureSource final : public KernelSource {
 public:
  explicit FixtureSource(std::string dir) : dir_(std::move(dir)) {}
  base::Result<std::unique_ptr<KernelSession>> open() override;

 private:
  std::string dir_;
};

Bytes read_bytes(const std::string& path);

// iproute2's JSON for the same facts. route_get maps "a.b.c.d" to the one route object
// `ip -j route get` printed, or to {"error": "<strerror text>"} when it failed.
struct Iproute2View {
  nlohmann::json links, routes, rules, neighbours, fdb;
  std::map<std::string, nlohmann::json> route_get;
};

// Runs iproute2 with `prefix` in front of every command (e.g. "ip netns exec NS ").
Iproute2View run_iproute2(const std::string& prefix,
                          const std::vector<model::IpAddress>& destinations);
void save_iproute2(const Iproute2View& view, const std::string& dir);
Iproute2View load_iproute2(const std::string& dir);

// Every difference between what podpath read and what iproute2 printed; empty = agree.
std::vector<std::string> compare(const KernelSnapshot& snapshot, const Iproute2View& view);
std::vector<std::string> compare(const RouteLookup& lookup, const nlohmann::json& expected);

// Runs a shell command; returns its stdout, and its exit status in *status.
std::string run(const std::string& command, int* status = nullptr);

}  // namespace podpath::netlink::testing
