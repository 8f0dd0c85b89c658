#include "http/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace podpath::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

// Content codings and parameter names are case-insensitive (RFC 9110 8.4.1, 5.6.6): "GZIP"
// and "Q=0" mean what "gzip" and "q=0" do (found by fuzz/accept.cc).
bool accepts_gzip(std::string_view header) {
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    auto semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.front())))
      coding.remove_prefix(1);
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.back())))
      coding.remove_suffix(1);
    if (!iequals(coding, "gzip") && !iequals(coding, "x-gzip") && coding != "*") continue;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      auto q = std::min(params.find("q="), params.find("Q="));
      // "q=0", "q=0.0", "q=0.000" refuse the coding.
      if (q != std::string_view::npos) {
        std::string_view value = params.substr(q + 2);
        bool zero = !value.empty() && value[0] == '0';
        for (size_t i = 1; zero && i < value.size() && value[i] != ' '; ++i)
          if (value[i] != '.' && value[i] != '0') zero = false;
        if (zero) continue;
      }
    }
    return true;
  }
  return false;
}

std::string gzip_compress(std::string_view data) {
  z_stream stream{};
  // windowBits 15 + 16 asks zlib for a gzip header and trailer instead of zlib's own.
  // Level 1: exposition text is so repetitive that the fastest level already shrinks it
  // ~25x, at a third of the default level's time (see bench/render_bench.cc).
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&stream, data.size()));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(stream.total_out);
  return out;
}

}  // namespace podpath::http
