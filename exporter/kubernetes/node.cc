#include "kubernetes/node.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "encoding/base64.h"

namespace podpath::kubernetes {

namespace {

using nlohmann::json;

// The member `key` of `object` when it is a string; empty otherwise. API objects come from
// outside: a field of an unexpected type is treated as missing, never as a crash.
std::string_view string_at(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

const json* object_at(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return nullptr;
  return &*it;
}

const json* array_at(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return nullptr;
  return &*it;
}

bool has_key(const json* object, std::string_view key) {
  return object != nullptr && object->find(key) != object->end();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

template <class Address>
void add_unique(std::vector<Address>& list, const Address& ip) {
  if (std::find(list.begin(), list.end(), ip) == list.end()) list.push_back(ip);
}

// An address of either family to the node's list of that family.
void add_address(const model::IpAddress& ip, std::vector<model::Ipv4>& v4,
                 std::vector<model::IpAddress>& v6) {
  if (ip.is_v4())
    add_unique(v4, model::Ipv4{ip.v4_value()});
  else
    add_unique(v6, ip);
}

// k3s writes "100.74.0.1,fd7a:115c:a1e0::4a01" for dual stack (pkg/agent/config in k3s
// joins the node IPs with ','); anything that is not an IP address is an error.
std::string add_address_list(std::string_view text, std::vector<model::Ipv4>& v4,
                             std::vector<model::IpAddress>& v6) {
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    auto ip = model::IpAddress::parse(item);
    if (!ip) return fmt::format("\"{}\" is not an IP address", item);
    add_address(*ip, v4, v6);
  }
  return {};
}

struct ErrorSink {
  ParsedNode& parsed;
  void add(std::string_view field, std::string_view message) {
    auto& error = parsed.node.annotation_error;
    if (error.empty()) {
      parsed.error_field = std::string(field);
    } else {
      error += "; ";
    }
    error += fmt::format("{}: {}", field, message);
  }
};

}  // namespace

std::string annotation_key_prefix(std::string_view prefix) {
  std::string out(prefix);
  if (out.find('/') == std::string::npos)
    out += '/';
  else if (!out.ends_with('/') && !out.ends_with('-'))
    out += '-';
  return out;
}

AnnotationKeys::AnnotationKeys(std::string_view prefix) {
  const std::string p = annotation_key_prefix(prefix);
  public_ip = p + "public-ip";
  public_ip_overwrite = p + "public-ip-overwrite";
  backend_type = p + "backend-type";
  backend_data = p + "backend-data";
  public_ipv6 = p + "public-ipv6";
  public_ipv6_overwrite = p + "public-ipv6-overwrite";
  backend_v6_data = p + "backend-v6-data";
}

bool AnnotationKeys::contains(std::string_view key) const {
  return key == public_ip || key == public_ip_overwrite || key == backend_type ||
         key == backend_data || key == public_ipv6 || key == public_ipv6_overwrite ||
         key == backend_v6_data || key == k3s_internal_ip || key == k3s_external_ip;
}

std::optional<std::string> parse_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return out;
}

bool is_wireguard_key(std::string_view text) {
  // GnuTLS rejects a last character whose padding bits are set, so a decoded key of 32
  // bytes is exactly the canonical 44-character form wg prints.
  auto key = encoding::decode_base64(text);
  return key && key->size() == 32 && text.size() == 44;
}

namespace {

// The vxlan backend's data: {"VNI":1,"VtepMAC":"32:f3:9e:5f:0e:68"}
// (flannel-io/flannel pkg/backend/vxlan).
void read_vxlan_data(const json& parsed, std::string_view text, BackendData& data) {
  if (!parsed.is_object()) {
    data.error = fmt::format("vxlan backend data must be an object: {}", text);
    return;
  }
  if (auto it = parsed.find("VNI"); it != parsed.end()) {
    // VXLAN network identifiers are 24 bits.
    if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 0xffffff) {
      data.error = fmt::format("VNI {} is not a 24-bit number", it->dump());
      return;
    }
    data.vni = it->get<int>();
  }
  auto mac_it = parsed.find("VtepMAC");
  if (mac_it == parsed.end() || !mac_it->is_string()) {
    data.error = "VtepMAC missing";
    return;
  }
  auto mac = parse_mac(mac_it->get_ref<const std::string&>());
  if (!mac) {
    data.error =
        fmt::format("VtepMAC \"{}\" is not a MAC address", mac_it->get_ref<const std::string&>());
    return;
  }
  data.vtep_mac = *mac;
}

// The wireguard backend's data: {"PublicKey":"<base64>","Port":51820}
// (flannel-io/flannel pkg/backend/wireguard).
void read_wireguard_data(const json& parsed, std::string_view text, BackendData& data) {
  if (!parsed.is_object()) {
    data.error = fmt::format("wireguard backend data must be an object: {}", text);
    return;
  }
  std::string_view key = string_at(parsed, "PublicKey");
  if (!is_wireguard_key(key)) {
    data.error = fmt::format("PublicKey \"{}\" is not a WireGuard key", key);
    return;
  }
  data.wireguard_public_key = std::string(key);
  if (auto it = parsed.find("Port"); it != parsed.end()) {
    // flannel decodes Port into a uint16: a string or an out-of-range number fails there too.
    if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 65535) {
      data.error = fmt::format("Port {} is not a UDP port number", it->dump());
      return;
    }
    data.wireguard_port = it->get<int>();
  }
}

}  // namespace

BackendData parse_backend_data(std::string_view backend_type, std::string_view text) {
  BackendData data;
  if (trim(text).empty()) {
    if (backend_type == "vxlan") data.error = "missing (vxlan needs the VTEP's MAC)";
    return data;
  }
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    data.error = fmt::format("not valid JSON: {}", text);
    return data;
  }
  if (backend_type == "vxlan")
    read_vxlan_data(parsed, text, data);
  else if (backend_type == "wireguard")
    read_wireguard_data(parsed, text, data);
  // host-gw writes null, extension (k3s' Tailscale mode) whatever its hooks return: nothing
  // podpath reads, but it must still be JSON, as flannel requires.
  return data;
}

namespace {

// metadata: the name, the version the watch resumes from, and the group label.
void read_metadata(const json& metadata, const std::string& group_label, ParsedNode& parsed) {
  parsed.node.name = std::string(string_at(metadata, "name"));
  parsed.resource_version = std::string(string_at(metadata, "resourceVersion"));
  if (const json* labels = object_at(metadata, "labels"))
    parsed.node.group = std::string(string_at(*labels, group_label));
}

// spec.podCIDRs, with spec.podCIDR first when the list lacks it.
std::vector<std::string> pod_cidr_texts(const json& spec) {
  std::vector<std::string> cidrs;
  if (const json* list = array_at(spec, "podCIDRs")) {
    for (const auto& item : *list)
      if (item.is_string()) cidrs.push_back(item.get<std::string>());
  }
  if (std::string_view single = string_at(spec, "podCIDR"); !single.empty()) {
    if (std::find(cidrs.begin(), cidrs.end(), single) == cidrs.end())
      cidrs.insert(cidrs.begin(), std::string(single));
  }
  return cidrs;
}

// spec: pod CIDRs (the first of each family) and cordon.
void read_spec(const json& spec, model::ClusterNode& out, ErrorSink& errors) {
  std::vector<std::string> cidrs = pod_cidr_texts(spec);
  for (const auto& cidr : cidrs) {
    const bool v6 = cidr.find(':') != std::string::npos;
    std::optional<model::Ipv4Prefix> v4_prefix;
    std::optional<model::IpPrefix> v6_prefix;
    if (v6)
      v6_prefix = model::IpPrefix::parse(cidr);
    else
      v4_prefix = model::Ipv4Prefix::parse(cidr);
    if (!v4_prefix && !v6_prefix) {
      errors.add("spec.podCIDR", fmt::format("\"{}\" is not a CIDR", cidr));
      continue;
    }
    if (v4_prefix && !out.pod_cidr) out.pod_cidr = v4_prefix;
    if (v6_prefix && !out.pod_cidr_v6) out.pod_cidr_v6 = v6_prefix;
  }
  out.pod_cidrs = std::move(cidrs);
  if (auto it = spec.find("unschedulable"); it != spec.end() && it->is_boolean())
    out.unschedulable = it->get<bool>();
}

// status: addresses and the Ready condition.
void read_status(const json& status, model::ClusterNode& out) {
  if (const json* addresses = array_at(status, "addresses")) {
    for (const auto& address : *addresses) {
      std::string_view type = string_at(address, "type");
      auto ip = model::IpAddress::parse(string_at(address, "address"));
      if (!ip) continue;  // Hostname entries
      if (type == "InternalIP")
        add_address(*ip, out.internal_addresses, out.internal_ipv6_addresses);
      if (type == "ExternalIP")
        add_address(*ip, out.external_addresses, out.external_ipv6_addresses);
    }
  }
  if (const json* conditions = array_at(status, "conditions")) {
    for (const auto& condition : *conditions)
      if (string_at(condition, "type") == "Ready")
        out.ready = string_at(condition, "status") == "True";
  }
}

// k3s' address annotations, added to the addresses of the status.
void read_k3s_addresses(const json& annotations, const AnnotationKeys& keys,
                        model::ClusterNode& out, ErrorSink& errors) {
  if (auto error = add_address_list(string_at(annotations, keys.k3s_internal_ip),
                                    out.internal_addresses, out.internal_ipv6_addresses);
      !error.empty())
    errors.add(keys.k3s_internal_ip, error);
  if (auto error = add_address_list(string_at(annotations, keys.k3s_external_ip),
                                    out.external_addresses, out.external_ipv6_addresses);
      !error.empty())
    errors.add(keys.k3s_external_ip, error);
}

// public-ip / public-ip-overwrite of one family; an address of the other family is an error.
template <class Address>
std::optional<Address> read_public_ip(const json& annotations, const std::string& key,
                                      ErrorSink& errors) {
  std::string_view text = trim(string_at(annotations, key));
  if (text.empty()) return std::nullopt;
  std::optional<Address> ip;
  if constexpr (std::is_same_v<Address, model::Ipv4>) {
    ip = model::Ipv4::parse(text);
    if (!ip) errors.add(key, fmt::format("\"{}\" is not an IPv4 address", text));
    // flannel keeps the IPv4 public IP as a number and writes its zero when the lease has no
    // IPv4 half (IPv6-only host-gw, wireguard, extension: pkg/subnet/kube/kube.go
    // AcquireLease; k3s#9435): no address a peer could send to.
    if (ip && *ip == model::Ipv4{}) ip.reset();
  } else {
    ip = model::IpAddress::parse(text);
    if (ip && !ip->is_v6()) ip.reset();
    if (!ip) errors.add(key, fmt::format("\"{}\" is not an IPv6 address", text));
  }
  return ip;
}

// The IPv6 lease: public-ipv6 (overwrite applied) and backend-v6-data, which has the same
// shape as backend-data (flannel's vxlan backend writes the flannel-v6 device's MAC).
void read_ipv6_lease(const json& annotations, const AnnotationKeys& keys, std::string_view type,
                     model::Ipv6Lease& lease, ErrorSink& errors) {
  auto public_ip = read_public_ip<model::IpAddress>(annotations, keys.public_ipv6, errors);
  lease.public_ip_overwrite =
      read_public_ip<model::IpAddress>(annotations, keys.public_ipv6_overwrite, errors);
  lease.public_ip = lease.public_ip_overwrite ? lease.public_ip_overwrite : public_ip;
  lease.has_backend_data = has_key(&annotations, keys.backend_v6_data);
  if (!lease.has_backend_data) return;
  BackendData data = parse_backend_data(type, string_at(annotations, keys.backend_v6_data));
  if (!data.error.empty()) errors.add(keys.backend_v6_data, data.error);
  lease.vni = data.vni;
  lease.vtep_mac = std::move(data.vtep_mac);
  lease.wireguard_public_key = std::move(data.wireguard_public_key);
  lease.wireguard_port = data.wireguard_port;
}

// flannel's lease: backend type and data, and the public IP peers send to, per family.
// flannel writes the IPv4 half only when IPv4 is enabled and the IPv6 half only when IPv6 is
// (pkg/subnet/kube/kube.go), so an IPv6-only node has no backend-data and no public-ip.
void read_flannel_lease(const json& annotations, const AnnotationKeys& keys,
                        model::ClusterNode& out, ErrorSink& errors) {
  out.backend_type = std::string(string_at(annotations, keys.backend_type));
  read_ipv6_lease(annotations, keys, out.backend_type, out.ipv6, errors);
  auto public_ip = read_public_ip<model::Ipv4>(annotations, keys.public_ip, errors);
  out.public_ip_overwrite =
      read_public_ip<model::Ipv4>(annotations, keys.public_ip_overwrite, errors);
  // flannel publishes the overwrite as the lease's address: peers send VXLAN there.
  out.public_ip = out.public_ip_overwrite ? out.public_ip_overwrite : public_ip;
  const bool has_data = has_key(&annotations, keys.backend_data);
  // "null" is flannel's marshalled empty half: beside an IPv6 lease and no IPv4 public IP it is
  // the IPv6-only node of host-gw and wireguard, not a broken IPv4 VTEP.
  const bool null_data = trim(string_at(annotations, keys.backend_data)) == "null";
  out.has_ipv4_lease = out.public_ip.has_value() || (has_data && !null_data);
  if (!out.has_ipv4_lease && out.ipv6.present()) return;
  // A backend type alone still needs its data, unless the node's lease is IPv6 only.
  if (has_data || (!out.backend_type.empty() && !out.ipv6.present())) {
    BackendData data =
        parse_backend_data(out.backend_type, string_at(annotations, keys.backend_data));
    if (!data.error.empty()) errors.add(keys.backend_data, data.error);
    out.vni = data.vni;
    out.vtep_mac = std::move(data.vtep_mac);
    out.wireguard_public_key = std::move(data.wireguard_public_key);
    out.wireguard_port = data.wireguard_port;
  }
}

}  // namespace

ParsedNode parse_node(const json& node, const NodeParseOptions& options) {
  ParsedNode parsed;
  ErrorSink errors{parsed};
  const AnnotationKeys keys(options.annotation_prefix);
  static const json kEmpty = json::object();
  const json* metadata = object_at(node, "metadata");
  if (metadata == nullptr) metadata = &kEmpty;
  const json* annotations = object_at(*metadata, "annotations");
  if (annotations == nullptr) annotations = &kEmpty;

  read_metadata(*metadata, options.group_label, parsed);
  if (const json* spec = object_at(node, "spec")) read_spec(*spec, parsed.node, errors);
  if (const json* status = object_at(node, "status")) read_status(*status, parsed.node);
  // Annotations: k3s' addresses, then flannel's lease.
  read_k3s_addresses(*annotations, keys, parsed.node, errors);
  read_flannel_lease(*annotations, keys, parsed.node, errors);
  return parsed;
}

}  // namespace podpath::kubernetes
