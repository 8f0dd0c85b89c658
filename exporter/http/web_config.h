// --web.config.file in exporter-toolkit's format
// (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md):
// tls_server_config, http_server_config.headers and basic_auth_users. Parsing is a pure
// function of the YAML text, so bad files have fixtures with their exact error text.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"
#include "base/result.h"
#include "http/server.h"

namespace podpath::http {

struct TlsFileConfig {
  // Paths are already joined with the config file's directory when relative.
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  // Inline PEM, the alternative to each file.
  std::string cert;
  std::string key;
  std::string client_ca;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  std::vector<std::string> client_allowed_sans;

  bool operator==(const TlsFileConfig&) const = default;
};

struct WebConfig {
  std::optional<TlsFileConfig> tls;            // absent: plain HTTP
  std::map<std::string, std::string> headers;  // added to every response
  std::map<std::string, std::string> users;    // basic auth: name -> bcrypt hash

  bool operator==(const WebConfig&) const = default;
};

// `base_dir` resolves relative file names, as exporter-toolkit does (the config file's
// directory). Unknown fields are errors, like exporter-toolkit's strict YAML decoding.
base::Result<WebConfig> parse_web_config(std::string_view yaml, std::string_view base_dir);

// Reads a whole file or throws std::runtime_error naming the reason (injected for tests).
using ReadFile = base::FileReader;

// Reads the PEM the TLS section names. Returns the settings, or an error naming the field
// and the file.
std::pair<std::shared_ptr<const TlsSettings>, std::string> load_tls_settings(
    const TlsFileConfig& config, const ReadFile& read);

const char* client_auth_name(ClientAuth auth);

}  // namespace podpath::http
