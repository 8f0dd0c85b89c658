// --web.listen-address values (http::parse_listen_address).
#include <cctype>

#include "check.h"
#include "http/server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);
  auto address = podpath::http::parse_listen_address(text);
  // Exactly one of an address and an error naming what is wrong.
  FUZZ_CHECK(address.ok() == address.error().empty(), text);
  if (!address) return 0;
  FUZZ_CHECK(address->port >= 0 && address->port <= 65535, text);
  FUZZ_CHECK(address->host.find(':') == std::string::npos, text);
  // The port is what follows the last ':', written in decimal digits only.
  const std::string_view port_text = text.substr(text.rfind(':') + 1);
  FUZZ_CHECK(!port_text.empty(), text);
  for (char c : port_text) FUZZ_CHECK(std::isdigit(static_cast<unsigned char>(c)), text);
  return 0;
}
