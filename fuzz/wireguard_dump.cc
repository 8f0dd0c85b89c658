// `wg show all dump` (wireguard/dump.h): what it reads, written back in the same format,
// reads the same.
#include <fmt/format.h>

#include <chrono>

#include "check.h"
#include "wireguard/dump.h"

namespace wg = podpath::wireguard;

namespace {

std::string render(const wg::DumpRead& read) {
  std::string out;
  for (const auto& d : read.devices) {
    if (!d.public_key.empty())
      out += fmt::format("{}\t{}\t{}\t{}\t{}\n", d.name, d.public_key, d.public_key, d.listen_port,
                         d.fwmark == 0 ? std::string("off") : fmt::format("0x{:x}", d.fwmark));
    for (const auto& p : d.peers) {
      std::vector<std::string> allowed;
      for (const auto& a : p.allowed_ips) allowed.push_back(a.to_string());
      const long long handshake = p.last_handshake
                                      ? std::chrono::duration_cast<std::chrono::seconds>(
                                            p.last_handshake->time_since_epoch())
                                            .count()
                                      : 0;
      out += fmt::format("{}\t{}\t(none)\t{}\t{}\t{}\t{}\t{}\t{}\n", d.name, p.public_key,
                         p.endpoint ? p.endpoint->to_string() : "(none)",
                         allowed.empty() ? "(none)" : fmt::format("{}", fmt::join(allowed, ",")),
                         handshake, p.rx_bytes, p.tx_bytes,
                         p.persistent_keepalive_seconds == 0
                             ? std::string("off")
                             : std::to_string(p.persistent_keepalive_seconds));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const wg::DumpRead read = wg::parse_show_dump(podpath::fuzz::as_text(data, size));
  for (const auto& problem : read.problems) FUZZ_CHECK(!problem.empty(), "problem without text");
  for (const auto& d : read.devices) {
    FUZZ_CHECK(!d.name.empty() && d.name.find('\t') == std::string::npos, d.name);
    for (const auto& p : d.peers) FUZZ_CHECK(p.public_key.size() == 44, p.public_key);
  }
  const std::string text = render(read);
  const wg::DumpRead again = wg::parse_show_dump(text);
  FUZZ_CHECK(again.problems.empty(), again.problems.empty() ? "" : again.problems[0]);
  FUZZ_CHECK(again.devices == read.devices, text);
  return 0;
}
