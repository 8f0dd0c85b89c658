// A userspace WireGuard daemon's reply to get=1 (wireguard/uapi.h): items plus problems,
// never a throw. Keys come out as standard base64 of 32 bytes, whatever hex went in.
#include "check.h"
#include "encoding/base64.h"
#include "wireguard/uapi.h"

namespace wg = podpath::wireguard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = podpath::fuzz::as_text(data, size);
  const wg::DeviceRead read = wg::parse_uapi_get(text, "wg0");
  FUZZ_CHECK(read.error >= 0, "errno is kept positive");
  FUZZ_CHECK(read.device.name == "wg0", "the name is the caller's");
  FUZZ_CHECK(read.device.public_key.empty(), "the UAPI has no device public key");
  for (const auto& problem : read.problems) FUZZ_CHECK(!problem.empty(), "problem without text");
  for (const auto& peer : read.device.peers) {
    const auto key = podpath::encoding::decode_base64(peer.public_key);
    FUZZ_CHECK(peer.public_key.size() == 44 && key && key->size() == 32, peer.public_key);
    for (const auto& prefix : peer.allowed_ips)
      FUZZ_CHECK(prefix.length() <= (prefix.family() == podpath::model::Family::kIpv4 ? 32 : 128),
                 prefix.to_string());
  }
  // Deterministic, and a reply cut at its empty line reads the same.
  FUZZ_CHECK(wg::parse_uapi_get(text, "wg0").device == read.device, "not deterministic");
  if (read.complete) {
    const auto end = text.starts_with("\n") ? 1 : text.find("\n\n") + 2;
    FUZZ_CHECK(wg::parse_uapi_get(text.substr(0, end), "wg0").device == read.device,
               "bytes after the empty line changed the result");
  }
  return 0;
}
