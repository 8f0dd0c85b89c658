// kubeconfig YAML (kubernetes::parse_kubeconfig) and the base64 it embeds (decode_base64).
// yaml-cpp reports errors by throwing; parse_kubeconfig must turn all of them into `error`.
#include "kubernetes/kubeconfig.h"

#include <string>

#include "check.h"

namespace k8s = podpath::kubernetes;

namespace {

// Standard base64 with padding, for the round trip.
std::string encode_base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace

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
    auto again = k8s::decode_base64(encode_base64(*decoded));
    FUZZ_CHECK(again == decoded, text);
  }
  FUZZ_CHECK(k8s::decode_base64(encode_base64(text)) == text, text);
  return 0;
}
