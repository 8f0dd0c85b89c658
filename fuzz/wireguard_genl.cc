// The kernel's WG_CMD_GET_DEVICE dump (wireguard/genl.h): never a read past a length (ASan),
// never a throw; adjacent messages' parts of one peer are joined.
#include "check.h"
#include "wireguard/genl.h"

namespace wg = podpath::wireguard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wg::DeviceRead read = wg::parse_genl_get_device(wg::ByteView(data, size));
  FUZZ_CHECK(read.error >= 0, "errno is kept positive");
  FUZZ_CHECK(read.device.name.find('\0') == std::string::npos, "name holds a NUL");
  for (const auto& problem : read.problems) FUZZ_CHECK(!problem.empty(), "problem without text");
  const auto& peers = read.device.peers;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    FUZZ_CHECK(peers[i].public_key.size() == 44, peers[i].public_key);
    if (i > 0) FUZZ_CHECK(peers[i].public_key != peers[i - 1].public_key, "peer not joined");
  }
  return 0;
}
