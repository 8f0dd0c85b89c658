// flannel's /run/flannel/subnet.env: what flannel leased for this node and the MTU it
// gives pods. flannel writes it to a temporary file and renames it
// (flannel-io/flannel pkg/subnet/subnet.go WriteSubnetFile), one KEY=VALUE per line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "model/ip.h"

namespace podpath::flannel {

struct SubnetEnv {
  // As written in the file (FLANNEL_SUBNET is the first usable address: 10.42.2.1/24).
  std::string network;  // FLANNEL_NETWORK
  std::string subnet;   // FLANNEL_SUBNET
  std::optional<model::Ipv4Prefix> network_prefix;
  std::optional<model::Ipv4Prefix> subnet_prefix;  // host bits cleared: 10.42.2.0/24
  std::optional<int> mtu;                          // FLANNEL_MTU
  std::optional<bool> ipmasq;                      // FLANNEL_IPMASQ
  std::string ipv6_network;                        // FLANNEL_IPV6_NETWORK
  std::string ipv6_subnet;                         // FLANNEL_IPV6_SUBNET
  std::optional<model::IpPrefix> ipv6_network_prefix;
  std::optional<model::IpPrefix> ipv6_subnet_prefix;  // host bits cleared: fc00::/64

  bool operator==(const SubnetEnv&) const = default;
};

// Parses the whole file's bytes. Strict, because a file caught half-written must be an
// error rather than a plausible wrong value: every line is KEY=VALUE (blank lines and
// # comments allowed), values are validated, keys appear once, the subnet lies inside
// the network, and the file ends with a newline as flannel always writes it. Unknown
// FLANNEL_* keys are ignored so newer flannel versions keep working. The failure names the
// line and what is wrong with it. An IPv6-only file (FLANNEL_IPV6_* alone) is complete.
base::Result<SubnetEnv> parse_subnet_env(std::string_view text);

}  // namespace podpath::flannel
