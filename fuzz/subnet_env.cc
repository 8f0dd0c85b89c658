// flannel's /run/flannel/subnet.env (flannel::parse_subnet_env), read on every scrape.
#include "flannel/subnet_env.h"

#include "check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);
  const auto parsed = podpath::flannel::parse_subnet_env(text);
  FUZZ_CHECK(parsed.ok() == parsed.error().empty(), text);
  if (!parsed) return 0;
  const auto& env = *parsed;
  // flannel always writes a final newline; a file without one was caught half-written.
  FUZZ_CHECK(!text.empty() && text.back() == '\n', text);
  // The documented checks hold for whatever was accepted.
  if (env.network_prefix && env.subnet_prefix)
    FUZZ_CHECK(env.network_prefix->contains(*env.subnet_prefix), text);
  if (env.ipv6_network_prefix && env.ipv6_subnet_prefix)
    FUZZ_CHECK(env.ipv6_network_prefix->contains(*env.ipv6_subnet_prefix), text);
  if (env.mtu) FUZZ_CHECK(*env.mtu > 0, text);
  // Parsing is a function of the bytes.
  FUZZ_CHECK(*podpath::flannel::parse_subnet_env(text) == env, text);
  return 0;
}
