#pragma once

#include <string>
#include <string_view>

namespace podpath::http {

// True when an Accept-Encoding header allows gzip (a q=0 refusal is honoured).
bool accepts_gzip(std::string_view accept_encoding);

// gzip-wrapped deflate of `data` (zlib); throws std::runtime_error only on zlib failure.
std::string gzip_compress(std::string_view data);

}  // namespace podpath::http
