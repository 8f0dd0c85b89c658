#include "flannel/subnet_env.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

#include "base/result.h"

namespace podpath::flannel {

namespace {

using base::Status;

// FLANNEL_NETWORK or FLANNEL_SUBNET: kept as written and as a prefix.
Status read_ipv4_prefix(std::string_view key, std::string_view value, SubnetEnv& env) {
  auto prefix = model::Ipv4Prefix::parse(value);
  if (!prefix || value.find('/') == std::string_view::npos)
    return Status::failure(
        fmt::format("{}={}: not an IPv4 prefix such as 10.42.0.0/16", key, value));
  if (key == "FLANNEL_NETWORK") {
    env.network = std::string(value);
    env.network_prefix = prefix;
  } else {
    env.subnet = std::string(value);
    env.subnet_prefix = prefix;
  }
  return Status::success();
}

// FLANNEL_IPV6_NETWORK or FLANNEL_IPV6_SUBNET: kept as written and as a prefix.
Status read_ipv6_prefix(std::string_view key, std::string_view value, SubnetEnv& env) {
  auto prefix = model::IpPrefix::parse(value);
  if (!prefix || prefix->family() != model::Family::kIpv6 ||
      value.find('/') == std::string_view::npos)
    return Status::failure(
        fmt::format("{}={}: not an IPv6 prefix such as fd00:42::/56", key, value));
  if (key == "FLANNEL_IPV6_NETWORK") {
    env.ipv6_network = std::string(value);
    env.ipv6_network_prefix = prefix;
  } else {
    env.ipv6_subnet = std::string(value);
    env.ipv6_subnet_prefix = prefix;
  }
  return Status::success();
}

Status read_mtu(std::string_view value, SubnetEnv& env) {
  int mtu = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), mtu);
  // 68 is the smallest MTU IPv4 allows (RFC 791), 65535 the largest an IP packet has.
  if (ec != std::errc() || end != value.data() + value.size() || mtu < 68 || mtu > 65535)
    return Status::failure(fmt::format("FLANNEL_MTU={}: not an MTU between 68 and 65535", value));
  env.mtu = mtu;
  return Status::success();
}

// One KEY=VALUE entry into `env`; the failure says what is wrong with it.
Status read_entry(std::string_view key, std::string_view value, SubnetEnv& env) {
  if (key == "FLANNEL_NETWORK" || key == "FLANNEL_SUBNET") return read_ipv4_prefix(key, value, env);
  if (key == "FLANNEL_MTU") return read_mtu(value, env);
  if (key == "FLANNEL_IPMASQ") {
    if (value != "true" && value != "false")
      return Status::failure(fmt::format("FLANNEL_IPMASQ={}: not true or false", value));
    env.ipmasq = value == "true";
  } else if (key == "FLANNEL_IPV6_NETWORK" || key == "FLANNEL_IPV6_SUBNET") {
    return read_ipv6_prefix(key, value, env);
  } else if (!key.starts_with("FLANNEL_")) {
    return Status::failure(fmt::format("unexpected key {}", key));
  }
  return Status::success();
}

// What the whole file must hold once every line is read.
Status check_complete(const SubnetEnv& env) {
  if (env.subnet.empty() && env.ipv6_subnet.empty())
    return Status::failure("neither FLANNEL_SUBNET nor FLANNEL_IPV6_SUBNET is set");
  if (env.network.empty() != env.subnet.empty())
    return Status::failure("FLANNEL_NETWORK and FLANNEL_SUBNET must be set together");
  if (env.ipv6_network.empty() != env.ipv6_subnet.empty())
    return Status::failure("FLANNEL_IPV6_NETWORK and FLANNEL_IPV6_SUBNET must be set together");
  if (!env.mtu) return Status::failure("FLANNEL_MTU is not set");
  if (env.network_prefix && !env.network_prefix->contains(*env.subnet_prefix))
    return Status::failure(
        fmt::format("FLANNEL_SUBNET={} is not inside FLANNEL_NETWORK={}", env.subnet, env.network));
  if (env.ipv6_network_prefix && !env.ipv6_network_prefix->contains(*env.ipv6_subnet_prefix))
    return Status::failure(
        fmt::format("FLANNEL_IPV6_SUBNET={} is not inside FLANNEL_IPV6_NETWORK={}", env.ipv6_subnet,
                    env.ipv6_network));
  return Status::success();
}

}  // namespace

base::Result<SubnetEnv> parse_subnet_env(std::string_view text) {
  using Parsed = base::Result<SubnetEnv>;
  SubnetEnv env;
  std::set<std::string, std::less<>> seen;
  int number = 0;
  std::size_t position = 0;
  auto fail = [&](std::string why) {
    return Parsed::failure(fmt::format("line {}: {}", number, why));
  };
  while (position < text.size()) {
    ++number;
    std::size_t newline = text.find('\n', position);
    if (newline == std::string_view::npos)
      return fail("no newline at the end of the file (truncated or still being written?)");
    std::string_view line = text.substr(position, newline - position);
    position = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0)
      return fail(fmt::format("\"{}\" is not KEY=VALUE", line));
    std::string_view key = line.substr(0, equals);
    if (!seen.insert(std::string(key)).second)
      return fail(fmt::format("{} appears more than once", key));
    if (auto read = read_entry(key, line.substr(equals + 1), env); !read) return fail(read.error());
  }
  if (auto complete = check_complete(env); !complete)
    return Parsed::failure(fmt::format("{} (file has {} lines)", complete.error(), number));
  return env;
}

}  // namespace podpath::flannel
