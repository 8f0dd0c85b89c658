#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "http/server.h"

namespace podpath::http {

std::string Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return value;
  }
  return {};
}

base::Result<ListenAddress> parse_listen_address(std::string_view text) {
  using Parsed = base::Result<ListenAddress>;
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return Parsed::failure(
        fmt::format("listen address \"{}\" has no port; write it as host:port or :port", text));
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  // from_chars takes a sign ("-0"); a port is digits only (found by fuzz/listen_address.cc).
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535 || !std::isdigit(static_cast<unsigned char>(port_text[0])))
    return Parsed::failure(
        fmt::format("listen address \"{}\" has an invalid port; use a number 0-65535", text));
  if (host.find(':') != std::string_view::npos || host.starts_with('['))
    return Parsed::failure(
        fmt::format("listen address \"{}\" is IPv6; this build serves IPv4 only, use an IPv4 "
                    "address or :port",
                    text));
  if (host == "0.0.0.0") host = {};
  if (host == "localhost") host = "127.0.0.1";  // the server binds numeric IPv4 only
  return ListenAddress{std::string(host), port};
}

}  // namespace podpath::http
