// A stand-in for tailscaled's LocalAPI on a Unix socket, for client and poller tests. It keeps
// tailscaled's request rules (Host empty or "local-tailscaled.sock"; any Origin or Referer is
// refused; both 403 "invalid localapi request") and can misbehave on demand: hang, answer
// garbage, or close without answering.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace podpath::tailscale::testing {

class FakeLocalApi {
 public:
  enum class Mode {
    kServe,    // answer from the configured routes (404 when unknown)
    kHang,     // accept and read, never answer
    kGarbage,  // answer bytes that are not HTTP
    kClose,    // accept, then close without a word
  };
  struct Route {
    int status = 200;
    std::string body;
  };
  struct Request {
    std::string method, target, version;
    std::map<std::string, std::string> headers;  // names lower-cased
  };

  // Binds and listens on `socket_path` (replacing a stale file) and serves on a thread.
  explicit FakeLocalApi(std::string socket_path);
  ~FakeLocalApi();
  FakeLocalApi(const FakeLocalApi&) = delete;
  FakeLocalApi& operator=(const FakeLocalApi&) = delete;

  void set_mode(Mode mode);
  void set_route(const std::string& path, Route route);  // path without the query
  void remove_route(const std::string& path);
  std::vector<Request> requests() const;
  const std::string& socket_path() const { return socket_path_; }

 private:
  void serve();
  void handle(int fd);

  const std::string socket_path_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  mutable std::mutex mutex_;  // guards mode_, routes_, requests_, held_
  Mode mode_ = Mode::kServe;
  std::map<std::string, Route> routes_;
  std::vector<Request> requests_;
  std::vector<int> held_;  // connections left hanging, closed on destruction
  std::thread thread_;
};

// Creates a socket file nobody listens on: connecting to it is refused, as after tailscaled
// died without removing its socket.
void make_dead_socket(const std::string& path);

// A fresh directory under /tmp for sockets (sun_path is short); removed by the caller.
std::string make_temp_dir();

}  // namespace podpath::tailscale::testing
