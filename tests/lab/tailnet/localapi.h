// Just enough HTTP/1.1 to stand in for tailscaled's LocalAPI on a Unix socket, with its rules:
// the Host header must be empty or "local-tailscaled.sock", and any Origin or Referer header is
// refused, both with 403 "invalid localapi request" (tailscale ipn/localapi Handler.ServeHTTP).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace podpath::lab {

struct HttpRequest {
  std::string method, target, path, query, version;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  bool keep_alive = true;
};

enum class ParseStatus { kIncomplete, kComplete, kBad };

// Parses one request head (and skips a Content-Length body) from the front of `buf`. On
// kComplete, `consumed` is the number of bytes used.
ParseStatus ParseRequest(std::string_view buf, HttpRequest& req, size_t& consumed);

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

std::string SerializeResponse(const HttpResponse& resp, bool keep_alive,
                              std::string_view tailscale_version);

// The endpoints one emulated tailscaled serves.
struct LocalAPIHandlers {
  std::function<std::string(bool with_peers)> status;
  std::function<std::string()> usermetrics;
};

HttpResponse HandleLocalAPI(const HttpRequest& req, const LocalAPIHandlers& handlers);

// The value of query parameter `key` in `query` ("a=1&b=2"), if present.
std::optional<std::string> QueryParam(std::string_view query, std::string_view key);

}  // namespace podpath::lab
