// tailscaled's LocalAPI status JSON (tailscale::parse_status) and its RFC 3339 times.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <string>

#include "check.h"
#include "tailscale/status.h"

namespace ts = podpath::tailscale;

namespace {

void check_peer(const ts::PeerStatus& peer, std::string_view text) {
  (void)ts::display_name(peer);
  if (peer.last_handshake_unix_seconds)
    FUZZ_CHECK(std::isfinite(*peer.last_handshake_unix_seconds), text);
}

// A whole-second UTC time that parse_rfc3339 accepted is the time gmtime gives back.
void check_time(std::string_view text) {
  std::optional<double> seconds;
  if (!ts::parse_rfc3339(text, seconds)) return;
  if (!seconds) return;  // Go's zero time
  FUZZ_CHECK(std::isfinite(*seconds), text);
  if (text.size() != 20 || text.substr(0, 4) < "1000" || std::floor(*seconds) != *seconds) return;
  std::string expected(text);
  for (char& c : expected) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::time_t t = static_cast<std::time_t>(*seconds);
  std::tm tm{};
  FUZZ_CHECK(gmtime_r(&t, &tm) != nullptr, text);
  char formatted[64];
  std::strftime(formatted, sizeof formatted, "%Y-%m-%dT%H:%M:%SZ", &tm);
  FUZZ_CHECK(expected == formatted, std::string(text) + " -> " + formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);
  check_time(text);

  const auto parsed = ts::parse_status(text);
  FUZZ_CHECK(parsed.ok() == parsed.error().empty(), text);
  if (!parsed) return 0;
  const auto& status = *parsed;
  if (status.self) check_peer(*status.self, text);
  for (const auto& peer : status.peers) check_peer(peer, text);
  // Sorted by key (and a JSON object's keys are unique), so everything built is deterministic.
  FUZZ_CHECK(std::is_sorted(status.peers.begin(), status.peers.end(),
                            [](const auto& a, const auto& b) { return a.key < b.key; }),
             text);
  FUZZ_CHECK(std::is_sorted(status.peer_errors.begin(), status.peer_errors.end(),
                            [](const auto& a, const auto& b) { return a.key < b.key; }),
             text);
  for (const auto& error : status.peer_errors) FUZZ_CHECK(!error.error.empty(), text);
  return 0;
}
