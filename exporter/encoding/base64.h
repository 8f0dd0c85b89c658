// Standard base64 (RFC 4648 §4), decoded and encoded by GnuTLS, which the exporter already
// links for TLS: one well-tested codec for kubeconfig data, Basic credentials and WireGuard
// keys instead of a hand-written one per caller.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace podpath::encoding {

// The bytes, or nullopt when `text` is not base64. Padding is required, as in Go's
// StdEncoding that kubectl and Prometheus use. Line breaks and blanks between the
// characters are skipped (kubeconfig and PEM writers wrap lines).
std::optional<std::string> decode_base64(std::string_view text);

// Padded standard base64 of `bytes`.
std::string encode_base64(std::string_view bytes);

}  // namespace podpath::encoding
