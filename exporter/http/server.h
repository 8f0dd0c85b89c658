// podpath's narrow view of an HTTP server. Collectors and the metrics core never see the
// server library; only http/mhd_server.cc does (libmicrohttpd with GnuTLS), so the library
// can be replaced (see docs/decisions/0002-http-behind-an-interface.md and 0004).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace podpath::http {

struct Request {
  std::string method;
  std::string path;   // without the query string
  std::string query;  // after '?', undecoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string remote_address;

  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

struct ListenAddress {
  std::string host;  // empty: every interface
  int port = 0;
};

// Parses Prometheus-style listen addresses: ":18472", "0.0.0.0:18472", "127.0.0.1:0".
// The address, or why not (naming what is wrong).
base::Result<ListenAddress> parse_listen_address(std::string_view text);

// Binds `address` once and releases it: lets main refuse a taken port before anything else
// starts. Fails with the same one-line message start() would give.
base::Status check_listen_address(const ListenAddress& address);

// Go's crypto/tls ClientAuthType, as exporter-toolkit's client_auth_type names them.
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required, verified when sent
  kRequireAndVerifyClientCert,  // required and verified: the only one that authenticates
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// What the TLS layer needs, already read from disk (PEM text), so the server never
// touches files and a reload is just a new value.
struct TlsSettings {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // empty: no client CA
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // When not empty, a client certificate must carry one of these SANs (DNS, IP, e-mail or URI).
  std::vector<std::string> client_allowed_sans;

  bool operator==(const TlsSettings&) const = default;
};

// Builds the TLS credentials from `settings` the way the server will; empty when they
// work, else one line naming the problem (a key that does not match the certificate, a CA
// file without certificates...). Lets a reload be refused before it reaches a connection.
base::Status check_tls_settings(const TlsSettings& settings);

// Asked once per new connection; returns the TLS settings in force (a reload swaps them).
using TlsSource = std::function<std::shared_ptr<const TlsSettings>()>;

struct ServerOptions {
  std::vector<ListenAddress> listen;
  // Threads that run the Handler (each also polls its share of the connections), so at
  // most this many requests are handled at once; more wait in their connections.
  int worker_threads = 4;
  // Open connections beyond this are refused at accept.
  int max_connections = 512;
  // A new connection must deliver its request's headers (TLS handshake included) within
  // read_timeout; a response must be fully sent within write_timeout; a keep-alive
  // connection must bring its next request within idle_timeout. Slow clients are closed
  // when they overrun, so they hold a connection slot, never a worker thread.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  // Request line plus headers; larger requests get 431 and the connection is closed.
  std::size_t max_header_bytes = 16384;
  // Empty: plain HTTP. Otherwise HTTPS with the settings this returns at each accept.
  TlsSource tls;
};

class Server {
 public:
  virtual ~Server() = default;
  // Starts listening, or fails with one line naming the problem and the fix (e.g. the port
  // is taken).
  virtual base::Status start(const ServerOptions& options, Handler handler) = 0;
  // The bound ports, in the order of options.listen (useful with port 0).
  virtual std::vector<int> ports() const = 0;
  virtual void stop() = 0;
};

std::unique_ptr<Server> make_server();

}  // namespace podpath::http
