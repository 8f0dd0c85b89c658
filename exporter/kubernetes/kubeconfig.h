// Where the API server is and how to authenticate: from a kubeconfig file or from the
// in-cluster service account. Parsing is pure (text in, settings out); the files named
// in the result (CA, client certificate, token) are read when a request is made, so a
// rotated service-account token is picked up without a restart.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"

namespace podpath::kubernetes {

struct ApiConfig {
  std::string server;  // https://host:port, no trailing slash
  // Trust: PEM data wins over a file; both empty means the system store.
  std::string ca_pem;
  std::string ca_file;
  // Client certificate authentication (PEM data or files).
  std::string client_cert_pem;
  std::string client_cert_file;
  std::string client_key_pem;
  std::string client_key_file;
  // Bearer token: a fixed one, or a file re-read on every request (rotation).
  std::string token;
  std::string token_file;
  // Only ever true when the kubeconfig says insecure-skip-tls-verify: true.
  bool insecure_skip_tls_verify = false;
  // For messages: "kubeconfig /path (context default)" or "in-cluster service account".
  std::string source;
};

// Parses kubeconfig YAML. `context` empty means current-context. Relative file paths are
// resolved against `base_dir` (the kubeconfig's directory), as kubectl does.
base::Result<ApiConfig> parse_kubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                         const std::string& context,
                                         const std::string& source_name);

// The in-cluster settings: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with
// `dir`/ca.crt and `dir`/token. nullopt when host or port is empty.
std::optional<ApiConfig> in_cluster_config(const std::string& host, const std::string& port,
                                           const std::string& dir);

}  // namespace podpath::kubernetes
