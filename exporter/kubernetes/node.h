// Node JSON -> model::ClusterNode: the pure centre of the cluster view. Everything here
// takes data and returns data; the watch feeds it objects already stripped to the fields
// these functions read (node_stream.h), unit tests feed it whole captured Nodes.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/peer.h"

namespace podpath::kubernetes {

struct NodeParseOptions {
  // The node label whose value is the node's group (--peers.group-label).
  std::string group_label = "topology.kubernetes.io/zone";
  // flannel's --kube-annotation-prefix, completed as flannel does (annotation_key_prefix).
  std::string annotation_prefix = "flannel.alpha.coreos.com";
};

// flannel's rule for --kube-annotation-prefix (pkg/subnet/kube/annotations.go): a prefix
// without '/' gains one ("example.com" -> "example.com/"); a prefix with a '/' that does
// not end in '/' or '-' gains a '-' ("example.com/x" -> "example.com/x-"); otherwise it is
// used as given. The keys are the prefix followed by "backend-type" etc.
std::string annotation_key_prefix(std::string_view prefix);

// The annotation keys parse_node() reads, with the prefix applied.
struct AnnotationKeys {
  std::string public_ip;
  std::string public_ip_overwrite;
  std::string backend_type;
  std::string backend_data;
  std::string public_ipv6;
  std::string public_ipv6_overwrite;
  std::string backend_v6_data;
  std::string k3s_internal_ip = "k3s.io/internal-ip";
  std::string k3s_external_ip = "k3s.io/external-ip";

  explicit AnnotationKeys(std::string_view prefix);
  bool contains(std::string_view key) const;
};

struct ParsedNode {
  model::ClusterNode node;
  std::string resource_version;
  // The annotation (or spec field) named by node.annotation_error: a small fixed set of
  // keys, usable as a metric label where the error text is not.
  std::string error_field;
};

// Reads a v1 Node. Never throws: fields of the wrong type count as absent, and invalid
// flannel/k3s annotations (bad JSON, IP or MAC) set annotation_error while the rest of the
// node is still filled in, so one broken node never hides the others.
ParsedNode parse_node(const nlohmann::json& node, const NodeParseOptions& options);

struct BackendData {
  std::optional<int> vni;             // vxlan
  std::string vtep_mac;               // vxlan, lower-case
  std::string wireguard_public_key;   // wireguard
  std::optional<int> wireguard_port;  // wireguard
  std::string error;                  // non-empty when the annotation is invalid
};

// flannel's backend-data annotation for the given backend-type.
BackendData parse_backend_data(std::string_view backend_type, std::string_view text);

// "32:F3:9e:5f:0e:68" -> "32:f3:9e:5f:0e:68"; nullopt unless six hex pairs.
std::optional<std::string> parse_mac(std::string_view text);

// WireGuard keys are 32 bytes in standard base64 (44 characters, one '=' of padding).
bool is_wireguard_key(std::string_view text);

}  // namespace podpath::kubernetes
