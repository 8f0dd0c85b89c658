// Ipv4 and Ipv4Prefix parsing (model/ip.h): every address and prefix podpath reads from
// annotations, subnet.env, LocalAPI JSON and flags goes through these two functions.
#include "model/ip.h"

#include <string>

#include "check.h"

using podpath::model::IpAddress;
using podpath::model::IpPrefix;
using podpath::model::Ipv4;
using podpath::model::Ipv4Prefix;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);

  if (auto ip = Ipv4::parse(text)) {
    // Leading zeros and signs are refused, so an accepted address is already canonical.
    FUZZ_CHECK(ip->to_string() == text, text);
    (void)to_string(classify(*ip));
  }

  if (auto prefix = Ipv4Prefix::parse(text)) {
    FUZZ_CHECK(prefix->length >= 0 && prefix->length <= 32, text);
    const std::string formatted = prefix->to_string();
    auto again = Ipv4Prefix::parse(formatted);
    FUZZ_CHECK(again && *again == *prefix, formatted);
    FUZZ_CHECK(prefix->contains(prefix->address) && prefix->contains(*prefix), formatted);
    // The address part is a valid address, and the length is written the one way Go's
    // net/netip accepts: decimal digits, no sign, no leading zero.
    const auto slash = text.find('/');
    FUZZ_CHECK(Ipv4::parse(text.substr(0, slash)), text);
    if (slash != std::string_view::npos)
      FUZZ_CHECK(text.substr(slash + 1) == std::to_string(prefix->length), text);
    FUZZ_CHECK(prefix->contains(*Ipv4::parse(text.substr(0, slash))), text);
  }

  // Both families: whatever parses prints canonically and parses back to itself.
  if (auto ip = IpAddress::parse(text)) {
    const std::string formatted = ip->to_string();
    auto again = IpAddress::parse(formatted);
    FUZZ_CHECK(again && *again == *ip && again->to_string() == formatted, formatted);
    FUZZ_CHECK(IpAddress::from_bytes(ip->bytes()) == ip, formatted);
    if (ip->is_v4()) FUZZ_CHECK(formatted == text, text);
    (void)to_string(classify(*ip));
  }
  if (auto prefix = IpPrefix::parse(text)) {
    FUZZ_CHECK(prefix->length() >= 0 && prefix->length() <= (prefix->address().is_v4() ? 32 : 128),
               text);
    const std::string formatted = prefix->to_string();
    auto again = IpPrefix::parse(formatted);
    FUZZ_CHECK(again && *again == *prefix, formatted);
    FUZZ_CHECK(prefix->contains(prefix->address()) && prefix->contains(*prefix), formatted);
    FUZZ_CHECK(prefix->contains(*IpAddress::parse(text.substr(0, text.find('/')))), text);
  }
  return 0;
}
