#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "tailscale/localapi.h"

namespace podpath::tailscale {

namespace {

// A 5,000-peer status is about 8 MB; anything far beyond that is not tailscaled talking.
constexpr size_t kMaxBody = 64 * 1024 * 1024;

struct Body {
  std::string data;
  bool too_large = false;
};

size_t append_body(char* chunk, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const size_t bytes = size * count;
  if (body->data.size() + bytes > kMaxBody) {
    body->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  body->data.append(chunk, bytes);
  return bytes;
}

class CurlLocalApi final : public LocalApi {
 public:
  CurlLocalApi(std::string socket_path, std::chrono::milliseconds timeout)
      : socket_path_(std::move(socket_path)), timeout_(timeout) {
    // Thread-safe and reference-counted in libcurl >= 7.84 (Debian 12 ships 7.88).
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl_ = curl_easy_init();
  }
  ~CurlLocalApi() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
    curl_global_cleanup();
  }
  CurlLocalApi(const CurlLocalApi&) = delete;
  CurlLocalApi& operator=(const CurlLocalApi&) = delete;

  LocalApiResponse get(std::string_view path) override {
    LocalApiResponse response;
    struct stat st {};
    if (::stat(socket_path_.c_str(), &st) != 0) {
      response.outcome = errno == ENOENT ? LocalApiResponse::Outcome::kNoSocket
                                         : LocalApiResponse::Outcome::kFailed;
      response.error = fmt::format("{}: {}", socket_path_, std::strerror(errno));
      return response;
    }
    if (!S_ISSOCK(st.st_mode)) {
      response.error = fmt::format("{}: not a Unix socket", socket_path_);
      return response;
    }
    if (curl_ == nullptr) {
      response.error = "curl_easy_init failed";
      return response;
    }
    Body body;
    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_easy_reset(curl_);
    // The host part is what tailscaled checks; it never resolves, the socket is used instead.
    const std::string url = fmt::format("http://local-tailscaled.sock{}", path);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
    // Background threads must not get SIGALRM from curl's resolver timeouts.
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "podpath-exporter");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_buffer);
    const CURLcode code = curl_easy_perform(curl_);
    if (code != CURLE_OK) {
      if (body.too_large) {
        response.error = fmt::format("GET {}: answer larger than {} bytes", path, kMaxBody);
      } else {
        response.error = fmt::format(
            "GET {}: {}", path, error_buffer[0] != 0 ? error_buffer : curl_easy_strerror(code));
      }
      return response;
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.http_status);
    response.outcome = LocalApiResponse::Outcome::kOk;
    response.body = std::move(body.data);
    return response;
  }

 private:
  const std::string socket_path_;
  const std::chrono::milliseconds timeout_;
  CURL* curl_ = nullptr;
};

}  // namespace

std::unique_ptr<LocalApi> make_curl_localapi(std::string socket_path,
                                             std::chrono::milliseconds timeout) {
  return std::make_unique<CurlLocalApi>(std::move(socket_path), timeout);
}

}  // namespace podpath::tailscale
