// kubeconfig YAML (kubernetes::parse_kubeconfig) and the base64 it embeds
// (encoding::decode_base64, GnuTLS underneath: the round trip checks our wrapper).
// yaml-cpp reports errors by throwing; parse_kubeconfig must turn all of them into `error`.
#include "kubernetes/kubeconfig.h"

#include <string>

#include "check.h"
#include "encoding/base64.h"

namespace k8s = podpath::kubernetes;
namespace base64 = podpath::encoding;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(podpath::fuzz::as_text(data, size));

  for (const char* context : {"", "default"}) {
    const auto result = k8s::parse_kubeconfig(text, "/etc/podpath", context, "fuzz");
    FUZZ_CHECK(result.ok() == result.error().empty(), text);
    if (result) {
      const auto& config = *result;
      FUZZ_CHECK(!config.server.empty() && config.server.back() != '/', text);
      // Relative paths are resolved against the kubeconfig's directory.
      for (const auto* path :
           {&config.ca_file, &config.client_cert_file, &config.client_key_file, &config.token_file})
        FUZZ_CHECK(path->empty() || path->front() == '/', text);
    }
  }

  if (auto decoded = base64::decode_base64(text)) {
    auto again = base64::decode_base64(base64::encode_base64(*decoded));
    FUZZ_CHECK(again == decoded, text);
  }
  FUZZ_CHECK(base64::decode_base64(base64::encode_base64(text)) == text, text);
  return 0;
}
