// A v1 Node from the API (kubernetes::parse_node) and the flannel annotation parsers it
// uses. parse_node is documented never to throw, whatever the JSON holds.
#include "kubernetes/node.h"

#include <nlohmann/json.hpp>

#include "check.h"

namespace k8s = podpath::kubernetes;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);

  // The annotation values on their own: backend-data for each backend, VtepMAC, keys.
  for (const char* backend : {"vxlan", "wireguard", "host-gw", "extension", ""}) {
    const auto backend_data = k8s::parse_backend_data(backend, text);
    if (backend_data.error.empty() && !backend_data.vtep_mac.empty())
      FUZZ_CHECK(k8s::parse_mac(backend_data.vtep_mac) == backend_data.vtep_mac, text);
  }
  if (auto mac = k8s::parse_mac(text)) {
    FUZZ_CHECK(mac->size() == 17, text);
    FUZZ_CHECK(k8s::parse_mac(*mac) == mac, *mac);  // lower-cased form is a fixed point
  }
  if (k8s::is_wireguard_key(text)) FUZZ_CHECK(text.size() == 44, text);

  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  // Both spellings of the prefix name the same annotations.
  k8s::NodeParseOptions options;
  const auto parsed = k8s::parse_node(json, options);
  options.annotation_prefix += '/';
  FUZZ_CHECK(k8s::parse_node(json, options).node == parsed.node, text);

  const auto& node = parsed.node;
  // error_field names the field behind annotation_error, and only then.
  FUZZ_CHECK(node.annotation_error.empty() == parsed.error_field.empty(), text);
  if (!node.vtep_mac.empty()) FUZZ_CHECK(k8s::parse_mac(node.vtep_mac) == node.vtep_mac, text);
  if (!node.wireguard_public_key.empty())
    FUZZ_CHECK(k8s::is_wireguard_key(node.wireguard_public_key), text);
  return 0;
}
