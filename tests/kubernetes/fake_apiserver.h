// Runs the lab's fake Kubernetes API server (tests/lab/apiserver/fake-apiserver) on
// 127.0.0.1 port 0 with a temporary state directory, and talks to its admin socket.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace podpath::kubernetes::testing {

class FakeApiServer {
 public:
  // Starts the server and waits for its server.json; `error()` says why when it did not.
  explicit FakeApiServer(const std::vector<std::string>& args = {});
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  bool running() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& url() const { return url_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string kubeconfig() const { return state_dir_ + "/kubeconfig"; }
  std::string token() const;
  std::string ca_pem() const;

  // POST (with a JSON body) or GET on the admin socket; the parsed answer.
  nlohmann::json admin(const std::string& path, const std::string& body = "");
  nlohmann::json get(const std::string& path);
  // The per-client counters of GET /stats for 127.0.0.1.
  nlohmann::json client_stats();
  std::string log() const;

 private:
  nlohmann::json request(const std::string& path, const std::string* body);

  std::string state_dir_;
  std::string url_;
  std::string admin_socket_;
  std::string error_;
  pid_t pid_ = -1;
};

// The fake's script, found from the source tree.
std::string fake_apiserver_path();

}  // namespace podpath::kubernetes::testing
