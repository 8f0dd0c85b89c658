// The only file that knows civetweb. Every request goes through begin_request, which
// hands it to podpath's single Handler; civetweb's own file serving is never reached.
#include <arpa/inet.h>
#include <civetweb.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "http/server.h"

namespace podpath::http {
namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

// civetweb reports a taken port only as "Failed to setup server ports"; binding once
// ourselves first gives the real errno, so the message can name the cause and the fix.
std::string check_bindable(const ListenAddress& address) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(address.port));
  if (address.host.empty()) {
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET, address.host.c_str(), &sa.sin_addr) != 1) {
    return fmt::format(
        "cannot listen on {}:{}: \"{}\" is not an IPv4 address; use an address "
        "of this host or :port",
        address.host, address.port, address.host);
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};  // let civetweb report it
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as civetweb binds
  std::string error;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    const std::string where =
        fmt::format("{}:{}", address.host.empty() ? "" : address.host, address.port);
    if (errno == EADDRINUSE)
      error = fmt::format(
          "cannot listen on {}: the port is already in use by another process; "
          "stop it or choose another port with --web.listen-address",
          where);
    else if (errno == EADDRNOTAVAIL)
      error = fmt::format(
          "cannot listen on {}: no interface of this host has that address; "
          "fix --web.listen-address",
          where);
    else if (errno == EACCES)
      error = fmt::format(
          "cannot listen on {}: permission denied (ports below 1024 need "
          "CAP_NET_BIND_SERVICE); choose a port above 1023",
          where);
    else
      error = fmt::format("cannot listen on {}: {}", where, std::strerror(errno));
  }
  close(fd);
  return error;
}

class CivetwebServer final : public Server {
 public:
  ~CivetwebServer() override { stop(); }

  std::string start(const ServerOptions& options, Handler handler) override {
    handler_ = std::move(handler);
    for (const auto& address : options.listen)
      if (auto error = check_bindable(address); !error.empty()) return error;
    std::string ports;
    for (const auto& address : options.listen) {
      if (!ports.empty()) ports += ',';
      ports += address.host.empty() ? std::to_string(address.port)
                                    : fmt::format("{}:{}", address.host, address.port);
    }
    const std::string threads = std::to_string(options.worker_threads);
    const std::string timeout = std::to_string(options.request_timeout_ms);
    const char* config[] = {"listening_ports", ports.c_str(), "num_threads", threads.c_str(),
                            "request_timeout_ms", timeout.c_str(), "enable_keep_alive", "yes",
                            // No document_root: podpath serves no files, so civetweb never
                            // maps a URI to the disk.
                            nullptr};

    mg_callbacks callbacks{};
    callbacks.begin_request = &CivetwebServer::on_request;
    callbacks.log_message = &CivetwebServer::on_log;
    mg_init_library(0);
    library_initialised_ = true;
    char error_text[256] = {0};
    unsigned error_code = 0;
    mg_error_data error{&error_code, error_text, sizeof error_text};
    mg_init_data init{&callbacks, this, config};
    context_ = mg_start2(&init, &error);
    if (context_ == nullptr) {
      const std::string why = error_text;
      return fmt::format("cannot start the HTTP server on {}: {}; check --web.listen-address",
                         ports, why.empty() ? "unknown error" : why);
    }
    return {};
  }

  std::vector<int> ports() const override {
    std::vector<int> out;
    if (context_ == nullptr) return out;
    mg_server_port ports[8];
    int n = mg_get_server_ports(context_, 8, ports);
    for (int i = 0; i < n; ++i) out.push_back(ports[i].port);
    return out;
  }

  void stop() override {
    if (context_ != nullptr) {
      mg_stop(context_);
      context_ = nullptr;
    }
    if (library_initialised_) {
      mg_exit_library();
      library_initialised_ = false;
    }
  }

 private:
  static int on_request(mg_connection* connection) {
    const mg_request_info* info = mg_get_request_info(connection);
    auto* self = static_cast<CivetwebServer*>(info->user_data);
    Request request;
    request.method = info->request_method ? info->request_method : "";
    request.path = info->local_uri_raw ? info->local_uri_raw : "";
    request.query = info->query_string ? info->query_string : "";
    request.remote_address = info->remote_addr;
    for (int i = 0; i < info->num_headers; ++i)
      request.headers.emplace_back(info->http_headers[i].name, info->http_headers[i].value);

    Response response;
    try {
      response = self->handler_(request);
    } catch (const std::exception& e) {
      response = Response{
          500, "text/plain; charset=utf-8", {}, fmt::format("internal error: {}\n", e.what())};
    }
    std::string head =
        fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", response.status,
                    reason_phrase(response.status), response.content_type, response.body.size());
    for (const auto& [name, value] : response.headers)
      head += fmt::format("{}: {}\r\n", name, value);
    head += "\r\n";
    mg_write(connection, head.data(), head.size());
    if (request.method != "HEAD" && !response.body.empty())
      mg_write(connection, response.body.data(), response.body.size());
    return response.status;  // non-zero: civetweb must not handle it further
  }

  static int on_log(const mg_connection*, const char*) {
    // civetweb's own messages (client resets, timeouts) are noise at our log levels.
    return 1;
  }

  Handler handler_;
  mg_context* context_ = nullptr;
  bool library_initialised_ = false;
};

}  // namespace

std::unique_ptr<Server> make_server() {
  return std::make_unique<CivetwebServer>();
}

}  // namespace podpath::http
