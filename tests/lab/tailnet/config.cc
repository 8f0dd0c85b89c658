#include "config.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace podpath::lab {

std::optional<uint32_t> ParseIPv4(std::string_view text) {
  in_addr addr{};
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string FormatIPv4(uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

std::optional<IPv6Address> ParseIPv6(std::string_view text) {
  in6_addr addr{};
  std::string s(text);
  if (inet_pton(AF_INET6, s.c_str(), &addr) != 1) return std::nullopt;
  IPv6Address out;
  std::memcpy(out.data(), addr.s6_addr, out.size());
  return out;
}

std::string FormatIPv6(const IPv6Address& ip) {
  in6_addr addr{};
  std::memcpy(addr.s6_addr, ip.data(), ip.size());
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &addr, buf, sizeof buf);
  return buf;
}

bool Prefix::Contains(const IPv6Address& ip) const {
  if (!v6) return false;
  int whole = len / 8, rest = len % 8;
  if (std::memcmp(ip.data(), addr6.data(), static_cast<size_t>(whole)) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip[static_cast<size_t>(whole)] & mask) == (addr6[static_cast<size_t>(whole)] & mask);
}

std::string Prefix::AddressString() const {
  return v6 ? FormatIPv6(addr6) : FormatIPv4(addr);
}

std::string Prefix::ToString() const {
  return fmt::format("{}/{}", AddressString(), len);
}

Prefix ParsePrefix(std::string_view text) {
  Prefix p;
  auto slash = text.find('/');
  auto ip = ParseIPv4(text.substr(0, slash));
  auto ip6 = ip ? std::nullopt : ParseIPv6(text.substr(0, slash));
  if (!ip && !ip6) throw std::invalid_argument(fmt::format("not an IP prefix: '{}'", text));
  p.v6 = ip6.has_value();
  int max = p.v6 ? 128 : 32;
  p.len = max;
  if (slash != std::string_view::npos) {
    std::string len(text.substr(slash + 1));
    size_t used = 0;
    int n = -1;
    try {
      n = std::stoi(len, &used);
    } catch (const std::exception&) {
    }
    if (used != len.size() || n < 0 || n > max) {
      throw std::invalid_argument(fmt::format("bad prefix length in '{}'", text));
    }
    p.len = n;
  }
  // Normalise so that equal prefixes compare equal whatever host bits were written.
  if (p.v6) {
    p.addr6 = *ip6;
    for (int bit = p.len; bit < 128; ++bit) {
      p.addr6[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    }
  } else {
    p.addr = p.len == 0 ? 0 : (*ip >> (32 - p.len)) << (32 - p.len);
  }
  return p;
}

std::string_view PathModeName(PathMode mode) {
  switch (mode) {
    case PathMode::kDirect:
      return "direct";
    case PathMode::kDerp:
      return "derp";
    case PathMode::kBlocked:
      return "blocked";
    case PathMode::kNoHandshake:
      return "no-handshake";
  }
  return "?";
}

namespace {

PathMode ParseMode(const std::string& s) {
  if (s == "direct") return PathMode::kDirect;
  if (s == "derp") return PathMode::kDerp;
  if (s == "blocked") return PathMode::kBlocked;
  if (s == "no-handshake") return PathMode::kNoHandshake;
  throw std::runtime_error(
      fmt::format("mode must be direct, derp, blocked or no-handshake, not '{}'", s));
}

std::vector<Prefix> Prefixes(const nlohmann::json& node, const char* key) {
  std::vector<Prefix> out;
  if (!node.contains(key)) return out;
  for (const auto& item : node.at(key)) out.push_back(ParsePrefix(item.get<std::string>()));
  return out;
}

PairConfig ParsePair(const nlohmann::json& j, const PairConfig& base) {
  PairConfig p = base;
  p.a = j.value("a", "");
  p.b = j.value("b", "");
  if (j.contains("mode")) p.mode = ParseMode(j.at("mode").get<std::string>());
  p.delay_ms = j.value("delay_ms", p.delay_ms);
  p.jitter_ms = j.value("jitter_ms", p.jitter_ms);
  p.endpoint_a = j.value("endpoint_a", "");
  p.endpoint_b = j.value("endpoint_b", "");
  if (p.delay_ms < 0 || p.jitter_ms < 0) {
    throw std::runtime_error(fmt::format("pair {}-{}: negative delay", p.a, p.b));
  }
  return p;
}

}  // namespace

Config ParseConfig(const nlohmann::json& doc) {
  Config c;
  try {
    c.version = doc.value("version", "1.82.5-podpath-lab");
    c.magic_dns_suffix = doc.value("magic_dns_suffix", "tail0000.ts.net");
    c.tailnet_name = doc.value("tailnet_name", "podpath-lab.example");
    c.seed = doc.value("seed", uint64_t{1});
    PairConfig fallback;
    fallback.mode = PathMode::kDerp;
    fallback.delay_ms = 50;
    if (doc.contains("default_pair")) fallback = ParsePair(doc.at("default_pair"), fallback);
    c.default_pair = fallback;

    std::set<std::string> names;
    for (const auto& n : doc.at("nodes")) {
      NodeConfig node;
      node.name = n.at("name").get<std::string>();
      if (!names.insert(node.name).second) {
        throw std::runtime_error(fmt::format("node '{}' listed twice", node.name));
      }
      node.netns = n.at("netns").get<std::string>();
      node.tun = n.value("tun", "tailscale0");
      node.socket = n.value("socket", "");
      node.ips = Prefixes(n, "ips");
      if (node.ips.empty())
        throw std::runtime_error(fmt::format("node '{}' has no ips", node.name));
      node.endpoint = n.value("endpoint", "");
      node.derp = n.value("derp", "tok");
      node.derp_region_id = n.value("derp_region_id", 7);
      node.advertise_routes = Prefixes(n, "advertise_routes");
      if (n.contains("accept_routes_from")) {
        node.accept_routes_from = n.at("accept_routes_from").get<std::vector<std::string>>();
      }
      node.online = n.value("online", true);
      if (n.contains("key_expiry") && !n.at("key_expiry").is_null())
        node.key_expiry = n.at("key_expiry").get<int64_t>();
      node.expired = n.value("expired", false);
      c.nodes.push_back(std::move(node));
    }
    for (const auto& n : c.nodes) {
      for (const auto& peer : n.accept_routes_from) {
        if (!names.contains(peer)) {
          throw std::runtime_error(
              fmt::format("node '{}' accepts routes from unknown node '{}'", n.name, peer));
        }
      }
    }
    if (doc.contains("pairs")) {
      for (const auto& j : doc.at("pairs")) {
        PairConfig p = ParsePair(j, fallback);
        if (!names.contains(p.a) || !names.contains(p.b) || p.a == p.b) {
          throw std::runtime_error(fmt::format("pair '{}'-'{}' does not name two nodes", p.a, p.b));
        }
        c.pairs.push_back(std::move(p));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("config: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("config: {}", e.what()));
  }
  return c;
}

Config LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
  return ParseConfig(doc);
}

std::optional<size_t> Config::Find(std::string_view name) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return i;
  }
  return std::nullopt;
}

PairConfig Config::Pair(size_t i, size_t j) const {
  const auto& a = nodes[i].name;
  const auto& b = nodes[j].name;
  for (const auto& p : pairs) {
    if ((p.a == a && p.b == b) || (p.a == b && p.b == a)) return p;
  }
  PairConfig p = default_pair;
  p.a = a;
  p.b = b;
  return p;
}

std::string Config::EndpointSeenBy(size_t self, size_t peer) const {
  PairConfig p = Pair(self, peer);
  const std::string& override = p.a == nodes[peer].name ? p.endpoint_a : p.endpoint_b;
  return override.empty() ? nodes[peer].endpoint : override;
}

std::vector<Prefix> Config::AllowedIPs(size_t self, size_t peer) const {
  std::vector<Prefix> out = nodes[peer].ips;
  for (const auto& name : nodes[self].accept_routes_from) {
    if (name == nodes[peer].name) {
      out.insert(out.end(), nodes[peer].advertise_routes.begin(),
                 nodes[peer].advertise_routes.end());
      break;
    }
  }
  return out;
}

}  // namespace podpath::lab
