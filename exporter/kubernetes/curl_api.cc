#include "kubernetes/curl_api.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <sstream>
#include <streambuf>

#include "base/file.h"

namespace podpath::kubernetes {

std::string_view to_string(ApiError error) {
  switch (error) {
    case ApiError::kNone:
      return "none";
    case ApiError::kConnect:
      return "connect";
    case ApiError::kTls:
      return "tls";
    case ApiError::kTimeout:
      return "timeout";
    case ApiError::kUnauthorized:
      return "unauthorized";
    case ApiError::kHttp:
      return "http";
    case ApiError::kDecode:
      return "decode";
    case ApiError::kOther:
      return "other";
  }
  return "other";
}

// One HTTP request whose body is read as a std::streambuf. underflow() runs the transfer
// until more bytes arrive, so the JSON parser pulls the body at its own pace.
class CurlNodeApi::Transfer : public std::streambuf {
 public:
  Transfer(CURLM* multi, const std::atomic<bool>& stop) : multi_(multi), stop_(stop) {
    easy_ = curl_easy_init();
    error_buffer_[0] = '\0';
  }
  ~Transfer() override {
    if (added_) curl_multi_remove_handle(multi_, easy_);
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    curl_easy_cleanup(easy_);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* easy() { return easy_; }
  void add_header(const std::string& header) {
    headers_ = curl_slist_append(headers_, header.c_str());
  }

  void start() {
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    curl_multi_add_handle(multi_, easy_);
    added_ = true;
  }

  // Runs the transfer until the response headers are in (the status is then known) or it
  // ends. A watch on a quiet cluster sends headers long before its first event. False when
  // `limit` passed first: a server that took the request and never answers is a timeout,
  // not a watch that is merely quiet.
  bool wait_for_headers(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!headers_done_ && !done_) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      pump();
    }
    return true;
  }
  // Reads what is left (for error bodies), at most `limit` bytes.
  std::string read_rest(size_t limit) {
    std::string body(gptr(), egptr());
    setg(nullptr, nullptr, nullptr);
    while (true) {
      body += incoming_;
      incoming_.clear();
      if (done_ || body.size() >= limit) break;
      pump();
    }
    if (body.size() > limit) body.resize(limit);
    return body;
  }
  // Lets a completed body's transfer finish (the chunked terminator) so the connection
  // goes back to the cache.
  void drain() {
    while (!done_) {
      incoming_.clear();
      pump();
    }
  }

  long status() const {
    long code = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
  bool done() const { return done_; }
  bool stopped() const { return stopped_; }
  CURLcode result() const { return result_; }
  std::string message() const {
    return error_buffer_[0] != '\0' ? std::string(error_buffer_) : curl_easy_strerror(result_);
  }

 protected:
  int_type underflow() override {
    while (incoming_.empty()) {
      if (done_) return traits_type::eof();
      pump();
    }
    current_.swap(incoming_);
    incoming_.clear();
    setg(current_.data(), current_.data(), current_.data() + current_.size());
    return traits_type::to_int_type(current_[0]);
  }

 private:
  static size_t on_header(char* data, size_t size, size_t count, void* self) {
    auto* transfer = static_cast<Transfer*>(self);
    std::string_view line(data, size * count);
    // The blank line ends a header block; 1xx responses have their own block first.
    if (line == "\r\n" || line == "\n") {
      long code = transfer->status();
      if (code >= 200) transfer->headers_done_ = true;
    }
    return size * count;
  }

  static size_t on_write(char* data, size_t size, size_t count, void* self) {
    static_cast<Transfer*>(self)->incoming_.append(data, size * count);
    return size * count;
  }

  void pump() {
    if (stop_.load()) {
      stopped_ = done_ = true;
      return;
    }
    int running = 0;
    if (CURLMcode code = curl_multi_perform(multi_, &running); code != CURLM_OK) {
      done_ = true;
      result_ = CURLE_FAILED_INIT;
      std::snprintf(error_buffer_, sizeof error_buffer_, "%s", curl_multi_strerror(code));
      return;
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == easy_) {
        done_ = true;
        result_ = message->data.result;
      }
    }
    if (done_ || !incoming_.empty()) return;
    // Woken early by data or by interrupt() (curl_multi_wakeup).
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }

  CURLM* multi_;
  const std::atomic<bool>& stop_;
  CURL* easy_;
  curl_slist* headers_ = nullptr;
  bool added_ = false;
  bool headers_done_ = false;
  bool done_ = false;
  bool stopped_ = false;
  CURLcode result_ = CURLE_OK;
  char error_buffer_[CURL_ERROR_SIZE];
  std::string incoming_;  // written by on_write during pump()
  std::string current_;   // the get area
};

namespace {

std::string trim_token(std::string token) {
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  return token;
}

std::string escape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

}  // namespace

CurlNodeApi::CurlNodeApi(ApiConfig config, CurlOptions options, NodeParseOptions parse_options)
    : config_(std::move(config)),
      options_(std::move(options)),
      parse_options_(std::move(parse_options)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi_ = curl_multi_init();
}

CurlNodeApi::~CurlNodeApi() {
  curl_multi_cleanup(multi_);
}

void CurlNodeApi::interrupt() {
  stop_.store(true);
  curl_multi_wakeup(multi_);
}

ApiResult CurlNodeApi::transport_error(const Transfer& transfer, bool established) const {
  const CURLcode code = transfer.result();
  const std::string detail = transfer.message();
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return ApiResult::failed(ApiError::kConnect,
                               fmt::format("cannot connect to {}: {}", config_.server, detail));
    case CURLE_OPERATION_TIMEDOUT:
      return ApiResult::failed(ApiError::kTimeout,
                               fmt::format("{} did not answer in time: {}", config_.server, detail),
                               established);
    case CURLE_PEER_FAILED_VERIFICATION:
      return ApiResult::failed(
          ApiError::kTls,
          fmt::format("TLS: the certificate of {} is not trusted by the CA from {} (check its "
                      "certificate-authority): {}",
                      config_.server, config_.source, detail));
    case CURLE_SSL_CONNECT_ERROR:
      // A server going down mid-handshake shows up as a TLS failure; it is a lost
      // connection, not a trust or protocol problem to send the operator after.
      for (const char* lost : {"reset by peer", "SSL_ERROR_SYSCALL", "unexpected eof",
                               "Connection refused", "Broken pipe"}) {
        if (detail.find(lost) != std::string::npos)
          return ApiResult::failed(ApiError::kConnect,
                                   fmt::format("connection to {} lost during the TLS handshake: {}",
                                               config_.server, detail),
                                   established);
      }
      return ApiResult::failed(
          ApiError::kTls,
          fmt::format("TLS with {} failed ({}): {}", config_.server, config_.source, detail),
          established);
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return ApiResult::failed(
          ApiError::kTls,
          fmt::format("TLS with {} failed ({}): {}", config_.server, config_.source, detail),
          established);
    default:
      return ApiResult::failed(established ? ApiError::kConnect : ApiError::kOther,
                               fmt::format("request to {} failed: {}", config_.server, detail),
                               established);
  }
}

ApiResult CurlNodeApi::headers_timeout() const {
  return ApiResult::failed(ApiError::kTimeout,
                           fmt::format("{} did not answer in time: no response within {} ms",
                                       config_.server, options_.request_timeout.count()));
}

ApiResult CurlNodeApi::http_error(Transfer& transfer, long status) const {
  std::string body = transfer.read_rest(64 * 1024);
  std::string detail;
  if (auto json = nlohmann::json::parse(body, nullptr, false); !json.is_discarded()) {
    if (auto parsed = parse_status(json)) detail = parsed->message;
  }
  if (detail.empty()) detail = body.substr(0, 200);
  if (status == 410) return ApiResult{ApiResult::Kind::kGone, ApiError::kNone, detail, false};
  if (status == 401 || status == 403)
    return ApiResult::failed(ApiError::kUnauthorized,
                             fmt::format("{} answered HTTP {} for the credentials of {}: {}",
                                         config_.server, status, config_.source, detail));
  return ApiResult::failed(ApiError::kHttp,
                           fmt::format("{} answered HTTP {}: {}", config_.server, status, detail));
}

namespace {

// Applies TLS, authentication and common options. Returns an error text on failure
// (e.g. an unreadable token file).
std::string configure(CURL* easy, const ApiConfig& config, const CurlOptions& options,
                      const std::string& url, std::vector<std::string>& headers) {
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
  // A dead peer behind a silent watch is noticed by TCP keepalive, not only by the timeout.
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 10L);
  headers.push_back("Accept: application/json");

  if (config.insecure_skip_tls_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(config.ca_pem.data()), config.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!config.ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, config.ca_file.c_str());
  }
  if (!config.client_cert_pem.empty()) {
    curl_blob cert{const_cast<char*>(config.client_cert_pem.data()), config.client_cert_pem.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!config.client_cert_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_SSLCERT, config.client_cert_file.c_str());
  }
  if (!config.client_key_pem.empty()) {
    curl_blob key{const_cast<char*>(config.client_key_pem.data()), config.client_key_pem.size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!config.client_key_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_SSLKEY, config.client_key_file.c_str());
  }

  std::string token = config.token;
  if (!config.token_file.empty()) {
    // Re-read on every request: service-account tokens are rotated on disk.
    auto file = base::read_file(config.token_file);
    if (!file.ok()) return file.message(config.token_file);
    token = trim_token(std::move(*file.bytes));
  }
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return {};
}

}  // namespace

ApiResult CurlNodeApi::list_nodes(const std::function<void(ParsedNode&&)>& on_node,
                                  std::string& resource_version) {
  std::string continue_token;
  bool first = true;
  do {
    std::string url = fmt::format("{}/api/v1/nodes?limit={}", config_.server, options_.page_size);
    if (!continue_token.empty()) url += "&continue=" + escape(continue_token);
    Transfer transfer(multi_, stop_);
    std::vector<std::string> headers;
    if (auto error = configure(transfer.easy(), config_, options_, url, headers); !error.empty())
      return ApiResult::failed(ApiError::kUnauthorized, error);
    for (const auto& header : headers) transfer.add_header(header);
    const long idle = std::max<long>(1, options_.request_timeout.count() / 1000);
    curl_easy_setopt(transfer.easy(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(transfer.easy(), CURLOPT_LOW_SPEED_TIME, idle);
    transfer.start();
    const bool answered = transfer.wait_for_headers(options_.request_timeout);
    if (transfer.stopped()) return ApiResult{ApiResult::Kind::kStopped, {}, {}, false};
    if (!answered) return headers_timeout();
    if (transfer.done() && transfer.result() != CURLE_OK) return transport_error(transfer, false);
    if (long status = transfer.status(); status != 200) return http_error(transfer, status);

    std::istream in(&transfer);
    ListPage page;
    std::string error;
    bool parsed = read_node_list(in, parse_options_, on_node, page, error);
    if (transfer.stopped()) return ApiResult{ApiResult::Kind::kStopped, {}, {}, false};
    if (!parsed) {
      if (transfer.done() && transfer.result() != CURLE_OK) return transport_error(transfer, true);
      return ApiResult::failed(ApiError::kDecode,
                               fmt::format("node list from {}: {}", config_.server, error));
    }
    if (page.status) {
      if (page.status->code == 410)
        return ApiResult{ApiResult::Kind::kGone, {}, page.status->message, false};
      return ApiResult::failed(
          ApiError::kHttp, fmt::format("{} answered {} {}: {}", config_.server, page.status->code,
                                       page.status->reason, page.status->message));
    }
    transfer.drain();
    // Every page of a list belongs to the first page's snapshot; the watch continues
    // from it (events after it are replayed, which is harmless).
    if (first) resource_version = page.resource_version;
    first = false;
    continue_token = page.continue_token;
  } while (!continue_token.empty());
  if (resource_version.empty())
    return ApiResult::failed(ApiError::kDecode, "node list without a resourceVersion");
  return ApiResult::ok();
}

ApiResult CurlNodeApi::watch_nodes(const std::string& resource_version, int timeout_seconds,
                                   const std::function<void()>& on_open,
                                   const std::function<bool(WatchEvent&&)>& on_event) {
  const std::string url = fmt::format(
      "{}/api/v1/nodes?watch=1&allowWatchBookmarks=true&resourceVersion={}&timeoutSeconds={}",
      config_.server, escape(resource_version), timeout_seconds);
  Transfer transfer(multi_, stop_);
  std::vector<std::string> headers;
  if (auto error = configure(transfer.easy(), config_, options_, url, headers); !error.empty())
    return ApiResult::failed(ApiError::kUnauthorized, error);
  for (const auto& header : headers) transfer.add_header(header);
  // The server ends the stream after timeoutSeconds; give it request_timeout more before
  // calling it hung. Until then silence is normal (no changes, bookmarks are sparse).
  const long limit_ms =
      timeout_seconds * 1000L + static_cast<long>(options_.request_timeout.count());
  curl_easy_setopt(transfer.easy(), CURLOPT_TIMEOUT_MS, limit_ms);
  transfer.start();
  // Only the stream may stay silent for timeoutSeconds; its headers must come in time.
  const bool answered = transfer.wait_for_headers(options_.request_timeout);
  if (transfer.stopped()) return ApiResult{ApiResult::Kind::kStopped, {}, {}, false};
  if (!answered) return headers_timeout();
  if (transfer.done() && transfer.result() != CURLE_OK) return transport_error(transfer, false);
  const long status = transfer.status();
  if (status != 200) return http_error(transfer, status);
  if (on_open) on_open();

  std::istream in(&transfer);
  while (true) {
    WatchEvent event;
    std::string error;
    ReadResult read = read_watch_event(in, parse_options_, event, error);
    if (transfer.stopped()) return ApiResult{ApiResult::Kind::kStopped, {}, {}, true};
    if (read == ReadResult::kEnd) {
      if (transfer.result() != CURLE_OK) return transport_error(transfer, true);
      ApiResult ok;
      ok.established = true;
      return ok;
    }
    if (read == ReadResult::kError) {
      if (transfer.done() && transfer.result() != CURLE_OK) return transport_error(transfer, true);
      return ApiResult::failed(
          ApiError::kDecode, fmt::format("watch stream from {}: {}", config_.server, error), true);
    }
    if (!on_event(std::move(event))) {
      ApiResult ok;
      ok.established = true;
      return ok;
    }
  }
}

}  // namespace podpath::kubernetes
