// kubeconfig YAML (kubernetes::parse_kubeconfig) and the base64 it embeds (decode_base64).
// yaml-cpp reports errors by throwing; parse_kubeconfig must turn all of them into `error`.
#include "kubernetes/kubeconfig.h"

#include <string>

#include "check.h"

namespace k8s = podpath::kubernetes;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(podpath::fuzz::as_text(data, size));

  for (const char* context : {"", "default"}) {
    const auto result = k8s::parse_kubeconfig(text, "/etc/podpath", context, "fuzz");
    FUZZ_CHECK(result.config.has_value() == result.error.empty(), text);
    if (result.config) {
      const auto& config = *result.config;
      FUZZ_CHECK(!config.server.empty() && config.server.back() != '/', text);
      // Relative paths are resolved against the kubeconfig's directory.
      for (const auto* path :
           {&config.ca_file, &config.client_cert_file, &config.client_key_file, &config.token_file})
        FUZZ_CHECK(path->empty() || path->front() == '/', text);
    }
  }

  if (auto decoded = k8s::decode_base64(text)) {
    auto again = k8s::decode_base64(podpath::fuzz::encode_base64(*decoded));
    FUZZ_CHECK(again == decoded, text);
  }
  FUZZ_CHECK(k8s::decode_base64(podpath::fuzz::encode_base64(text)) == text, text);
  return 0;
}
