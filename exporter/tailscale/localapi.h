// tailscaled's LocalAPI behind a small interface, so the poller can be tested against
// fixtures and the real client against a test server.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace podpath::tailscale {

struct LocalApiResponse {
  enum class Outcome {
    kOk,        // an HTTP answer arrived (any status; see http_status)
    kNoSocket,  // the socket file does not exist: Tailscale is not on this node
    kFailed,    // refused, timed out, not a socket, or not HTTP
  };
  Outcome outcome = Outcome::kFailed;
  long http_status = 0;
  std::string body;
  std::string error;  // for kNoSocket and kFailed
};

class LocalApi {
 public:
  virtual ~LocalApi() = default;
  // GET `path` (e.g. "/localapi/v0/status"). Never throws for environmental errors.
  virtual LocalApiResponse get(std::string_view path) = 0;
};

// libcurl over the Unix socket. tailscaled refuses any Host but "local-tailscaled.sock" (or
// none) and any request carrying Origin or Referer, as a guard against DNS rebinding from a
// browser (tailscale ipn/localapi/localapi.go, validHost / ServeHTTP); curl sends neither
// Origin nor Referer unless asked, and the Host comes from the URL. One instance is used by
// one thread at a time (it keeps one curl handle, so the connection is reused).
std::unique_ptr<LocalApi> make_curl_localapi(std::string socket_path,
                                             std::chrono::milliseconds timeout);

}  // namespace podpath::tailscale
