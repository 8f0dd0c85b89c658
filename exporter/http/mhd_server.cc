// The only file that knows libmicrohttpd (MHD) and GnuTLS. Every request goes to podpath's
// single Handler. Why MHD: docs/decisions/0004-libmicrohttpd-for-tls.md.
//
// Shape: we bind each listen socket ourselves (so a taken port gets a clear message) and
// hand it to an MHD daemon with a pool of epoll threads. Slow clients cost a connection
// slot, never a thread: a watchdog thread closes connections that overrun the read, write
// or idle deadline, which MHD 0.9.75 cannot express (its only timeout is inactivity, which
// a client sending one byte every few seconds never reaches).
//
// TLS: MHD creates each connection's GnuTLS session, then tells us (NOTIFY_CONNECTION)
// before the handshake starts. There we swap in our own credentials and priorities built
// from the TlsSettings in force, so a reloaded certificate, CA or client_auth_type applies
// to the next connection without restarting the daemon.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "http/server.h"

namespace podpath::http {
namespace {

using Clock = std::chrono::steady_clock;

// --- TLS -----------------------------------------------------------------------------

const char* version_token(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10:
      return "+VERS-TLS1.0";
    case TlsVersion::kTls11:
      return "+VERS-TLS1.1";
    case TlsVersion::kTls12:
      return "+VERS-TLS1.2";
    case TlsVersion::kTls13:
      return "+VERS-TLS1.3";
  }
  return "";
}

// GnuTLS's NORMAL set limited to the versions from min to max.
std::string priority_string(const TlsSettings& settings) {
  std::string out = "NORMAL:-VERS-ALL";
  for (int v = static_cast<int>(settings.min_version); v <= static_cast<int>(settings.max_version);
       ++v)
    out += fmt::format(":{}", version_token(static_cast<TlsVersion>(v)));
  return out;
}

bool verifies(ClientAuth auth) {
  return auth == ClientAuth::kVerifyClientCertIfGiven ||
         auth == ClientAuth::kRequireAndVerifyClientCert;
}

gnutls_certificate_request_t request_mode(ClientAuth auth) {
  switch (auth) {
    case ClientAuth::kNoClientCert:
      return GNUTLS_CERT_IGNORE;
    case ClientAuth::kRequestClientCert:
    case ClientAuth::kVerifyClientCertIfGiven:
      return GNUTLS_CERT_REQUEST;
    case ClientAuth::kRequireAnyClientCert:
    case ClientAuth::kRequireAndVerifyClientCert:
      return GNUTLS_CERT_REQUIRE;
  }
  return GNUTLS_CERT_IGNORE;
}

gnutls_datum_t datum(const std::string& text) {
  return gnutls_datum_t{reinterpret_cast<unsigned char*>(const_cast<char*>(text.data())),
                        static_cast<unsigned>(text.size())};
}

// One TlsSettings turned into GnuTLS objects. Sessions point at `credentials`, so every
// connection holds a shared_ptr to its bundle until MHD has deinitialised its session.
struct TlsBundle {
  gnutls_certificate_credentials_t credentials = nullptr;
  gnutls_priority_t priority = nullptr;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  std::vector<std::string> allowed_sans;

  TlsBundle() = default;
  TlsBundle(const TlsBundle&) = delete;
  TlsBundle& operator=(const TlsBundle&) = delete;
  ~TlsBundle() {
    if (priority != nullptr) gnutls_priority_deinit(priority);
    if (credentials != nullptr) gnutls_certificate_free_credentials(credentials);
  }
};

int verify_client_certificate(gnutls_session_t session);

std::pair<std::shared_ptr<TlsBundle>, std::string> make_bundle(const TlsSettings& settings) {
  auto bundle = std::make_shared<TlsBundle>();
  bundle->client_auth = settings.client_auth;
  bundle->allowed_sans = settings.client_allowed_sans;
  if (settings.min_version > settings.max_version)
    return {nullptr, "min_version is above max_version"};
  if (int rc = gnutls_certificate_allocate_credentials(&bundle->credentials); rc < 0)
    return {nullptr, fmt::format("cannot allocate TLS credentials: {}", gnutls_strerror(rc))};
  auto cert = datum(settings.cert_pem);
  auto key = datum(settings.key_pem);
  if (int rc = gnutls_certificate_set_x509_key_mem(bundle->credentials, &cert, &key,
                                                   GNUTLS_X509_FMT_PEM);
      rc < 0) {
    if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
      return {nullptr,
              "the key does not belong to the certificate (cert_file and key_file "
              "must be a pair)"};
    return {nullptr, fmt::format("cannot load the certificate and key (PEM expected): {}",
                                 gnutls_strerror(rc))};
  }
  if (!settings.client_ca_pem.empty()) {
    auto ca = datum(settings.client_ca_pem);
    int count =
        gnutls_certificate_set_x509_trust_mem(bundle->credentials, &ca, GNUTLS_X509_FMT_PEM);
    if (count < 0)
      return {nullptr, fmt::format("cannot load the client CA: {}", gnutls_strerror(count))};
    if (count == 0) return {nullptr, "the client CA contains no PEM certificate"};
  }
  if (verifies(settings.client_auth) || !settings.client_allowed_sans.empty())
    gnutls_certificate_set_verify_function(bundle->credentials, &verify_client_certificate);
  const std::string priority = priority_string(settings);
  const char* error_at = nullptr;
  if (int rc = gnutls_priority_init(&bundle->priority, priority.c_str(), &error_at); rc < 0)
    return {nullptr, fmt::format("TLS versions not supported by GnuTLS ({}): {}", priority,
                                 gnutls_strerror(rc))};
  return {bundle, {}};
}

// The SANs of a DER certificate as exporter-toolkit compares them: DNS names, e-mail
// addresses, IP addresses in text form, URIs.
std::vector<std::string> subject_alt_names(const gnutls_datum_t& der) {
  std::vector<std::string> out;
  gnutls_x509_crt_t crt = nullptr;
  if (gnutls_x509_crt_init(&crt) < 0) return out;
  if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) >= 0) {
    for (unsigned seq = 0;; ++seq) {
      char buffer[1024];
      size_t size = sizeof buffer;
      unsigned critical = 0;
      int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buffer, &size, &critical);
      if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) break;
      if (type < 0) continue;  // too long or malformed: cannot match an allowed SAN
      if (type == GNUTLS_SAN_IPADDRESS) {
        char text[INET6_ADDRSTRLEN] = {0};
        if (size == 4 || size == 16)
          if (inet_ntop(size == 4 ? AF_INET : AF_INET6, buffer, text, sizeof text) != nullptr)
            out.emplace_back(text);
      } else if (type == GNUTLS_SAN_DNSNAME || type == GNUTLS_SAN_RFC822NAME ||
                 type == GNUTLS_SAN_URI) {
        out.emplace_back(buffer, size);
      }
    }
  }
  gnutls_x509_crt_deinit(crt);
  return out;
}

// --- connections ---------------------------------------------------------------------

enum class Phase {
  kReading,   // waiting for a request's headers (read_timeout or idle_timeout)
  kHandling,  // in the Handler: bounded by the scrape deadline, not by us
  kWriting,   // response queued (write_timeout)
};

// Our state per TCP connection (MHD's socket_context).
struct Connection {
  int fd = -1;
  Phase phase = Phase::kReading;
  Clock::time_point deadline;
  bool closing = false;
  std::shared_ptr<TlsBundle> tls;  // keeps the session's credentials alive
};

// Our state per request (MHD's request context), created when the request line arrives.
struct Exchange {
  std::string uri;  // raw, as sent: path and query undecoded
  bool headers_seen = false;
  bool answered = false;
};

int verify_client_certificate(gnutls_session_t session) {
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr || count == 0) return 0;  // none sent: GNUTLS_CERT_REQUIRE handles it
  // The session's user pointer is MHD's connection; its socket context is ours.
  auto* mhd = static_cast<MHD_Connection*>(gnutls_session_get_ptr(session));
  const auto* info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  auto* connection = info ? static_cast<Connection*>(info->socket_context) : nullptr;
  if (connection == nullptr || !connection->tls) return GNUTLS_E_CERTIFICATE_ERROR;
  const TlsBundle& bundle = *connection->tls;
  if (verifies(bundle.client_auth)) {
    unsigned status = 0;
    if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0)
      return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  }
  if (!bundle.allowed_sans.empty()) {
    auto sans = subject_alt_names(chain[0]);
    bool allowed = std::any_of(sans.begin(), sans.end(), [&](const std::string& san) {
      return std::find(bundle.allowed_sans.begin(), bundle.allowed_sans.end(), san) !=
             bundle.allowed_sans.end();
    });
    if (!allowed) return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
  }
  return 0;
}

// Binds and listens ourselves: MHD would report a taken port only as a generic failure,
// while the errno lets the message name the cause and the fix.
std::pair<int, std::string> open_listener(const ListenAddress& address) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(address.port));
  if (address.host.empty()) {
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET, address.host.c_str(), &sa.sin_addr) != 1) {
    return {-1, fmt::format("cannot listen on {}:{}: \"{}\" is not an IPv4 address; use an address "
                            "of this host or :port",
                            address.host, address.port, address.host)};
  }
  const std::string where = fmt::format("{}:{}", address.host, address.port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return {-1, fmt::format("cannot listen on {}: {}", where, std::strerror(errno))};
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // restart while in TIME_WAIT
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 128) != 0) {
    const int err = errno;
    close(fd);
    if (err == EADDRINUSE)
      return {-1, fmt::format("cannot listen on {}: the port is already in use by another "
                              "process; stop it or choose another port with --web.listen-address",
                              where)};
    if (err == EADDRNOTAVAIL)
      return {-1, fmt::format("cannot listen on {}: no interface of this host has that address; "
                              "fix --web.listen-address",
                              where)};
    if (err == EACCES)
      return {-1, fmt::format("cannot listen on {}: permission denied (ports below 1024 need "
                              "CAP_NET_BIND_SERVICE); choose a port above 1023",
                              where)};
    return {-1, fmt::format("cannot listen on {}: {}", where, std::strerror(err))};
  }
  return {fd, {}};
}

int bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t length = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0) return 0;
  return ntohs(sa.sin_port);
}

class MhdServer final : public Server {
 public:
  ~MhdServer() override { stop(); }

  base::Status start(const ServerOptions& options, Handler handler) override {
    options_ = options;
    handler_ = std::move(handler);
    std::vector<int> fds;
    for (const auto& address : options.listen) {
      auto [fd, error] = open_listener(address);
      if (fd < 0) {
        for (int open : fds) close(open);
        return base::Status::failure(error);
      }
      fds.push_back(fd);
    }
    DaemonTls tls;
    if (options.tls) {
      auto prepared = prepare_tls(options.tls);
      if (!prepared) {
        for (int open : fds) close(open);
        return base::Status::failure(prepared.error());
      }
      tls = std::move(*prepared);
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      MHD_Daemon* daemon = start_daemon(fds[i], tls);
      if (daemon == nullptr) {
        for (size_t j = i; j < fds.size(); ++j) close(fds[j]);
        stop();
        return base::Status::failure(
            fmt::format("cannot start the HTTP server on {}:{}; check --web.listen-address",
                        options.listen[i].host, options.listen[i].port));
      }
      daemons_.push_back(daemon);
      ports_.push_back(bound_port(fds[i]));
    }
    {
      std::lock_guard lock(watchdog_mutex_);
      stopping_ = false;
    }
    watchdog_ = std::thread([this] { watch(); });
    return base::Status::success();
  }

  std::vector<int> ports() const override { return ports_; }

  void stop() override {
    if (watchdog_.joinable()) {
      {
        std::lock_guard lock(watchdog_mutex_);
        stopping_ = true;
      }
      watchdog_wake_.notify_all();
      watchdog_.join();
    }
    // MHD closes every connection (NOTIFY_CLOSED frees our state) and the listen socket.
    for (auto* daemon : daemons_) MHD_stop_daemon(daemon);
    daemons_.clear();
    ports_.clear();
  }

 private:
  // Closes connections past their deadline. shutdown() rather than close(): MHD still owns
  // the descriptor, sees end-of-stream and cleans up in its own thread. The lock makes this
  // safe against descriptor reuse: MHD reports NOTIFY_CLOSED (which removes the entry under
  // the same lock) before it closes the descriptor.
  void watch() {
    std::unique_lock lock(watchdog_mutex_);
    while (!stopping_) {
      watchdog_wake_.wait_for(lock, std::chrono::milliseconds(100));
      const auto now = Clock::now();
      std::lock_guard connections_lock(connections_mutex_);
      for (Connection* connection : connections_) {
        if (connection->closing || connection->phase == Phase::kHandling) continue;
        if (now < connection->deadline) continue;
        connection->closing = true;
        shutdown(connection->fd, SHUT_RDWR);
      }
    }
  }

  void set_phase(Connection* connection, Phase phase, std::chrono::milliseconds timeout) {
    if (connection == nullptr) return;
    std::lock_guard lock(connections_mutex_);
    connection->phase = phase;
    connection->deadline = Clock::now() + timeout;
  }

  // The bundle for the settings now in force; rebuilt only when the source hands out a
  // new value. A bundle that fails to build (the reload checked it already) keeps the old.
  std::shared_ptr<TlsBundle> current_bundle() {
    auto settings = options_.tls();
    std::lock_guard lock(tls_mutex_);
    if (settings && settings != tls_settings_ && !(*settings == *tls_settings_)) {
      auto [bundle, error] = make_bundle(*settings);
      if (bundle) tls_bundle_ = std::move(bundle);
    }
    if (settings) tls_settings_ = std::move(settings);
    return tls_bundle_;
  }

  static void on_connection(void* cls, MHD_Connection* mhd, void** socket_context,
                            MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<MhdServer*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* connection = new Connection;
      const auto* fd_info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
      connection->fd = fd_info ? fd_info->connect_fd : -1;
      connection->deadline = Clock::now() + self->options_.read_timeout;
      if (self->options_.tls) {
        connection->tls = self->current_bundle();
        const auto* info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (info != nullptr && connection->tls) {
          auto session = static_cast<gnutls_session_t>(info->tls_session);
          gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, connection->tls->credentials);
          gnutls_priority_set(session, connection->tls->priority);
          gnutls_certificate_server_set_request(session,
                                                request_mode(connection->tls->client_auth));
        }
      }
      *socket_context = connection;
      std::lock_guard lock(self->connections_mutex_);
      self->connections_.insert(connection);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      auto* connection = static_cast<Connection*>(*socket_context);
      if (connection == nullptr) return;
      {
        std::lock_guard lock(self->connections_mutex_);
        self->connections_.erase(connection);
      }
      delete connection;  // MHD has already deinitialised the TLS session
      *socket_context = nullptr;
    }
  }

  static void* on_uri(void*, const char* uri, MHD_Connection*) {
    return new Exchange{uri ? uri : "", false, false};
  }

  static void on_completed(void* cls, MHD_Connection* mhd, void** request_context,
                           MHD_RequestTerminationCode) {
    auto* self = static_cast<MhdServer*>(cls);
    delete static_cast<Exchange*>(*request_context);
    *request_context = nullptr;
    // Keep-alive: the next request must arrive within idle_timeout.
    self->set_phase(socket_connection(mhd), Phase::kReading, self->options_.idle_timeout);
  }

  static Connection* socket_connection(MHD_Connection* mhd) {
    const auto* info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? static_cast<Connection*>(info->socket_context) : nullptr;
  }

  static MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
    static_cast<Request*>(cls)->headers.emplace_back(key ? key : "", value ? value : "");
    return MHD_YES;
  }

  // What MHD needs for HTTPS: a certificate of its own (the per-connection hook replaces
  // it) and the priority string. Empty when serving plain HTTP.
  struct DaemonTls {
    bool on = false;
    std::string cert_pem, key_pem, priority;
  };

  base::Result<DaemonTls> prepare_tls(const TlsSource& source) {
    auto settings = source();
    if (!settings)
      return base::Result<DaemonTls>::failure("TLS is configured but no certificate is loaded");
    auto [bundle, error] = make_bundle(*settings);
    if (!bundle)
      return base::Result<DaemonTls>::failure(
          fmt::format("cannot set up TLS: {}; fix --web.config.file", error));
    tls_settings_ = settings;
    tls_bundle_ = bundle;
    return DaemonTls{true, settings->cert_pem, settings->key_pem, priority_string(*settings)};
  }

  // One daemon on one listening socket, with options_'s limits; nullptr when MHD refuses.
  MHD_Daemon* start_daemon(int fd, DaemonTls& tls) {
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC;
    if (tls.on) flags |= MHD_USE_TLS;
    const unsigned threads = static_cast<unsigned>(std::max(1, options_.worker_threads));
    // MHD's own inactivity timeout is a backstop; the watchdog enforces the real deadlines.
    const auto idle_seconds = static_cast<unsigned>(
        std::chrono::ceil<std::chrono::seconds>(
            std::max({options_.read_timeout, options_.write_timeout, options_.idle_timeout}))
            .count());
    // The per-connection pool holds the request line and headers plus our response
    // headers; a request that does not fit gets 431.
    const size_t pool_bytes = options_.max_header_bytes + 4096;
    std::vector<MHD_OptionItem> items = {
        {MHD_OPTION_LISTEN_SOCKET, fd, nullptr},
        {MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(threads), nullptr},
        {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(std::max(1, options_.max_connections)),
         nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(idle_seconds), nullptr},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(pool_bytes), nullptr},
        {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&MhdServer::on_uri), this},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&MhdServer::on_completed), this},
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&MhdServer::on_connection), this},
    };
    if (tls.on) {
      items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, tls.cert_pem.data()});
      items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, tls.key_pem.data()});
      items.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0, tls.priority.data()});
    }
    items.push_back({MHD_OPTION_END, 0, nullptr});
    return MHD_start_daemon(flags, 0, nullptr, nullptr, &MhdServer::on_request, this,
                            MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  }

  // MHD closes the connection after a response queued at the first call for a request (it
  // cannot know what follows), so a plain GET or HEAD is answered at the next call, once the
  // request is complete, and keeps the connection alive. Anything with a body is answered at
  // once: the body is never read, the connection closes.
  static bool answer_at_next_call(MHD_Connection* mhd, const char* method) {
    return (std::strcmp(method, "GET") == 0 || std::strcmp(method, "HEAD") == 0) &&
           MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Content-Length") == nullptr &&
           MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Transfer-Encoding") == nullptr;
  }

  static Request read_request(MHD_Connection* mhd, const char* method, const std::string& uri) {
    Request request;
    request.method = method;
    const auto question = uri.find('?');
    request.path = uri.substr(0, question);
    if (question != std::string::npos) request.query = uri.substr(question + 1);
    MHD_get_connection_values(mhd, MHD_HEADER_KIND, &MhdServer::collect_header, &request);
    if (const auto* info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        info != nullptr && info->client_addr != nullptr &&
        info->client_addr->sa_family == AF_INET) {
      char text[INET_ADDRSTRLEN] = {0};
      const auto* in = reinterpret_cast<const sockaddr_in*>(info->client_addr);
      if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr)
        request.remote_address = text;
    }
    return request;
  }

  // The handler's answer; an exception becomes a 500 naming it.
  Response handle(const Request& request) {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      return Response{
          500, "text/plain; charset=utf-8", {}, fmt::format("internal error: {}\n", e.what())};
    }
  }

  static MHD_Result queue(MHD_Connection* mhd, const Response& response) {
    MHD_Response* reply = MHD_create_response_from_buffer(
        // MUST_COPY: MHD copies the body and never writes through the pointer.
        response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
    if (reply == nullptr) return MHD_NO;
    MHD_add_response_header(reply, "Content-Type", response.content_type.c_str());
    for (const auto& [name, value] : response.headers)
      MHD_add_response_header(reply, name.c_str(), value.c_str());
    MHD_Result queued =
        MHD_queue_response(mhd, static_cast<unsigned>(response.status), reply);  // HEAD: no body
    MHD_destroy_response(reply);
    return queued;
  }

  static MHD_Result on_request(void* cls, MHD_Connection* mhd, const char*, const char* method,
                               const char*, const char*, size_t* upload_data_size,
                               void** request_context) {
    if (method == nullptr) return MHD_NO;
    auto* self = static_cast<MhdServer*>(cls);
    auto* exchange = static_cast<Exchange*>(*request_context);
    if (exchange == nullptr) return MHD_NO;
    if (exchange->answered) {
      *upload_data_size = 0;  // a body after our answer: podpath reads no bodies
      return MHD_YES;
    }
    if (!exchange->headers_seen) {
      exchange->headers_seen = true;
      if (answer_at_next_call(mhd, method)) return MHD_YES;
    }
    exchange->answered = true;
    Connection* connection = socket_connection(mhd);
    self->set_phase(connection, Phase::kHandling, {});
    const Response response = self->handle(read_request(mhd, method, exchange->uri));
    self->set_phase(connection, Phase::kWriting, self->options_.write_timeout);
    return queue(mhd, response);
  }

  ServerOptions options_;
  Handler handler_;
  std::vector<MHD_Daemon*> daemons_;
  std::vector<int> ports_;

  std::mutex tls_mutex_;
  std::shared_ptr<const TlsSettings> tls_settings_;  // guarded by tls_mutex_
  std::shared_ptr<TlsBundle> tls_bundle_;            // guarded by tls_mutex_

  std::mutex connections_mutex_;
  std::unordered_set<Connection*> connections_;  // guarded by connections_mutex_

  std::mutex watchdog_mutex_;
  std::condition_variable watchdog_wake_;
  bool stopping_ = false;  // guarded by watchdog_mutex_
  std::thread watchdog_;
};

}  // namespace

base::Status check_listen_address(const ListenAddress& address) {
  auto [fd, error] = open_listener(address);
  if (fd < 0) return base::Status::failure(error);
  close(fd);
  return base::Status::success();
}

base::Status check_tls_settings(const TlsSettings& settings) {
  auto [bundle, error] = make_bundle(settings);
  if (!bundle) return base::Status::failure(error);
  return base::Status::success();
}

std::unique_ptr<Server> make_server() {
  return std::make_unique<MhdServer>();
}

}  // namespace podpath::http
