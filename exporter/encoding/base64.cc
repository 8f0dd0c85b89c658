#include "encoding/base64.h"

#include <gnutls/gnutls.h>

#include <limits>
#include <memory>
#include <new>

namespace podpath::encoding {
namespace {

// GnuTLS allocates the result; this frees it whichever way we leave.
struct DatumFree {
  void operator()(unsigned char* data) const { gnutls_free(data); }
};
using OwnedBytes = std::unique_ptr<unsigned char, DatumFree>;

gnutls_datum_t view_of(std::string_view text) {
  // gnutls_datum_t holds a non-const pointer, but neither call writes through it.
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(text.data())),
          static_cast<unsigned>(text.size())};
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty()) return std::string();
  if (text.size() > std::numeric_limits<unsigned>::max()) return std::nullopt;
  // GnuTLS reads PEM bodies and stops at the first '-' (the "-----END" line), ignoring what
  // follows; in bare base64 it is a character outside the alphabet.
  if (text.find('-') != std::string_view::npos) return std::nullopt;
  const gnutls_datum_t in = view_of(text);
  gnutls_datum_t out{nullptr, 0};
  const int status = gnutls_base64_decode2(&in, &out);
  OwnedBytes owned(out.data);
  if (status != GNUTLS_E_SUCCESS) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out.data), out.size);
}

std::string encode_base64(std::string_view bytes) {
  if (bytes.empty()) return {};
  const gnutls_datum_t in = view_of(bytes);
  gnutls_datum_t out{nullptr, 0};
  const int status = gnutls_base64_encode2(&in, &out);
  OwnedBytes owned(out.data);
  // Only an allocation failure can stop an encoder; treat it as the allocator would.
  if (status != GNUTLS_E_SUCCESS) throw std::bad_alloc();
  return std::string(reinterpret_cast<const char*>(out.data), out.size);
}

}  // namespace podpath::encoding
