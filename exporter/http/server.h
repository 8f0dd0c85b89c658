// podpath's narrow view of an HTTP server. Collectors and the metrics core never see the
// server library; only http/civetweb_server.cc does, so the library can be replaced
// (see docs/decisions/0002-http-behind-an-interface.md).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
// Returns an error text naming what is wrong, or the address.
std::pair<std::optional<ListenAddress>, std::string> parse_listen_address(std::string_view text);

struct ServerOptions {
  std::vector<ListenAddress> listen;
  int worker_threads = 8;
  int request_timeout_ms = 10000;
};

class Server {
 public:
  virtual ~Server() = default;
  // Starts listening; returns an empty string on success, else one line naming the
  // problem and the fix (e.g. the port is taken).
  virtual std::string start(const ServerOptions& options, Handler handler) = 0;
  // The bound ports, in the order of options.listen (useful with port 0).
  virtual std::vector<int> ports() const = 0;
  virtual void stop() = 0;
};

std::unique_ptr<Server> make_server();

}  // namespace podpath::http
