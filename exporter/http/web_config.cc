#include "http/web_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace podpath::http {
namespace {

// A parse failure; caught once in parse_web_config and turned into the error text.
struct Invalid : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail_at(const YAML::Node& node, const std::string& message) {
  throw Invalid(fmt::format("line {}: {}", node.Mark().line + 1, message));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string scalar(const YAML::Node& node, const std::string& field) {
  if (node.IsNull()) return {};
  if (!node.IsScalar()) fail_at(node, fmt::format("{} must be a string", field));
  return node.Scalar();
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& field) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) fail_at(node, fmt::format("{} must be a list of strings", field));
  for (const auto& item : node) out.push_back(scalar(item, field + " entries"));
  return out;
}

const YAML::Node& map_or_null(const YAML::Node& node, const std::string& field) {
  if (!node.IsNull() && !node.IsMap()) fail_at(node, fmt::format("{} must be a mapping", field));
  return node;
}

// Calls visit(key, value) for each entry, refusing keys outside `known`.
template <typename Visit>
void each_field(const YAML::Node& node, const std::string& section,
                const std::vector<std::string>& known, Visit visit) {
  if (node.IsNull()) return;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end())
      fail_at(entry.first, fmt::format("unknown field \"{}\" in {}; known fields: {}", key, section,
                                       join(known)));
    visit(key, entry.first, entry.second);
  }
}

std::string join_dir(std::string_view dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || dir.empty()) return path;
  std::string out(dir);
  if (out.back() != '/') out += '/';
  return out + path;
}

TlsVersion tls_version(const YAML::Node& node, const std::string& field) {
  const std::string text = scalar(node, field);
  static const std::array<std::pair<const char*, TlsVersion>, 4> kVersions = {{
      {"TLS10", TlsVersion::kTls10},
      {"TLS11", TlsVersion::kTls11},
      {"TLS12", TlsVersion::kTls12},
      {"TLS13", TlsVersion::kTls13},
  }};
  for (const auto& [name, version] : kVersions)
    if (text == name) return version;
  fail_at(node, fmt::format("{}: unknown TLS version \"{}\"; use TLS10, TLS11, TLS12 or TLS13",
                            field, text));
}

const char* version_name(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10:
      return "TLS10";
    case TlsVersion::kTls11:
      return "TLS11";
    case TlsVersion::kTls12:
      return "TLS12";
    case TlsVersion::kTls13:
      return "TLS13";
  }
  return "";
}

ClientAuth client_auth(const YAML::Node& node) {
  const std::string text = scalar(node, "tls_server_config.client_auth_type");
  if (text.empty() || text == "NoClientCert") return ClientAuth::kNoClientCert;
  if (text == "RequestClientCert") return ClientAuth::kRequestClientCert;
  // "RequireClientCert" is exporter-toolkit's older spelling, still accepted there.
  if (text == "RequireAnyClientCert" || text == "RequireClientCert")
    return ClientAuth::kRequireAnyClientCert;
  if (text == "VerifyClientCertIfGiven") return ClientAuth::kVerifyClientCertIfGiven;
  if (text == "RequireAndVerifyClientCert") return ClientAuth::kRequireAndVerifyClientCert;
  fail_at(node, fmt::format("tls_server_config.client_auth_type: invalid ClientAuth \"{}\"; use "
                            "NoClientCert, RequestClientCert, RequireAnyClientCert, "
                            "VerifyClientCertIfGiven or RequireAndVerifyClientCert",
                            text));
}

// Not implementable with GnuTLS the way Go does them; refused so nobody believes they apply.
[[noreturn]] void unsupported(const YAML::Node& key, const std::string& field) {
  fail_at(key, fmt::format("tls_server_config.{} is not supported: podpath's TLS (GnuTLS) picks "
                           "cipher suites and curves from its secure defaults; remove it",
                           field));
}

// Reads tls_server_config's fields into `tls`; true when a field other than min_version and
// max_version is set (exporter-toolkit: TLS is on when any TLS field is set).
bool read_tls_fields(const YAML::Node& node, std::string_view base_dir, TlsFileConfig& tls) {
  bool any = false;
  std::optional<TlsVersion> min, max;
  each_field(node, "tls_server_config",
             {"cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type",
              "client_ca_file", "client_allowed_sans", "min_version", "max_version",
              "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"},
             [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
               const std::string field = "tls_server_config." + key;
               if (key == "cert") tls.cert = scalar(value, field);
               if (key == "key") tls.key = scalar(value, field);
               if (key == "client_ca") tls.client_ca = scalar(value, field);
               if (key == "cert_file") tls.cert_file = join_dir(base_dir, scalar(value, field));
               if (key == "key_file") tls.key_file = join_dir(base_dir, scalar(value, field));
               if (key == "client_ca_file")
                 tls.client_ca_file = join_dir(base_dir, scalar(value, field));
               if (key == "client_auth_type") tls.client_auth = client_auth(value);
               if (key == "client_allowed_sans")
                 tls.client_allowed_sans = string_list(value, field);
               if (key == "min_version") min = tls_version(value, field);
               if (key == "max_version") max = tls_version(value, field);
               if (key == "cipher_suites" || key == "prefer_server_cipher_suites" ||
                   key == "curve_preferences")
                 unsupported(key_node, key);
               if (key != "min_version" && key != "max_version") any = any || !value.IsNull();
             });
  if (min) tls.min_version = *min;
  if (max) tls.max_version = *max;
  return any;
}

// Throws Invalid for the first combination of fields that cannot work together.
void check_tls_fields(const TlsFileConfig& tls) {
  if (tls.cert.empty() && tls.cert_file.empty())
    throw Invalid("tls_server_config: missing one of cert or cert_file");
  if (!tls.cert.empty() && !tls.cert_file.empty())
    throw Invalid("tls_server_config: cert and cert_file are both set; keep one");
  if (tls.key.empty() && tls.key_file.empty())
    throw Invalid("tls_server_config: missing one of key or key_file");
  if (!tls.key.empty() && !tls.key_file.empty())
    throw Invalid("tls_server_config: key and key_file are both set; keep one");
  if (!tls.client_ca.empty() && !tls.client_ca_file.empty())
    throw Invalid("tls_server_config: client_ca and client_ca_file are both set; keep one");
  const bool has_ca = !tls.client_ca.empty() || !tls.client_ca_file.empty();
  if (has_ca && tls.client_auth == ClientAuth::kNoClientCert)
    throw Invalid(
        "tls_server_config: client CA's have been configured without a Client Auth Policy; set "
        "client_auth_type (RequireAndVerifyClientCert checks client certificates)");
  const bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (verifies && !has_ca)
    throw Invalid(fmt::format(
        "tls_server_config: client_auth_type {} needs client_ca_file (or client_ca), the CA "
        "that signs the client certificates",
        client_auth_name(tls.client_auth)));
  if (!tls.client_allowed_sans.empty() && tls.client_auth == ClientAuth::kNoClientCert)
    throw Invalid(
        "tls_server_config: client_allowed_sans needs a client_auth_type that asks for client "
        "certificates (RequireAndVerifyClientCert)");
  if (tls.min_version > tls.max_version)
    throw Invalid(fmt::format("tls_server_config: min_version {} is above max_version {}",
                              version_name(tls.min_version), version_name(tls.max_version)));
}

TlsFileConfig parse_tls(const YAML::Node& node, std::string_view base_dir) {
  TlsFileConfig tls;
  if (read_tls_fields(node, base_dir, tls)) check_tls_fields(tls);
  return tls;
}

// exporter-toolkit lets only these response headers be set, some with fixed values, to keep
// the Prometheus ecosystem consistent.
const std::map<std::string, std::vector<std::string>>& allowed_headers() {
  static const std::map<std::string, std::vector<std::string>> kAllowed = {
      {"Content-Security-Policy", {}},
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
  };
  return kAllowed;
}

std::map<std::string, std::string> parse_headers(const YAML::Node& node) {
  std::map<std::string, std::string> headers;
  if (node.IsNull()) return headers;
  if (!node.IsMap()) fail_at(node, "http_server_config.headers must be a mapping");
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    auto allowed = allowed_headers().find(name);
    if (allowed == allowed_headers().end()) {
      std::vector<std::string> names;
      for (const auto& [known, values] : allowed_headers()) names.push_back(known);
      fail_at(entry.first, fmt::format("http_server_config.headers: HTTP header \"{}\" can not be "
                                       "configured; allowed: {}",
                                       name, join(names)));
    }
    const std::string value = scalar(entry.second, "http_server_config.headers." + name);
    const auto& values = allowed->second;
    if (!values.empty() && std::find(values.begin(), values.end(), value) == values.end())
      fail_at(entry.second,
              fmt::format("http_server_config.headers: invalid value for {}: \"{}\"; expected one "
                          "of: {}",
                          name, value, join(values)));
    if (!value.empty()) headers[name] = value;  // blank means unset, as in exporter-toolkit
  }
  return headers;
}

// $2a$, $2b$ or $2y$, a two-digit cost from 04 to 31, '$', then 53 characters of bcrypt's
// base64 (22 of salt, 31 of hash).
bool is_bcrypt_hash(std::string_view hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$')
    return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (!std::isdigit(static_cast<unsigned char>(hash[4])) ||
      !std::isdigit(static_cast<unsigned char>(hash[5])))
    return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (char c : hash.substr(7))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '/') return false;
  return true;
}

std::map<std::string, std::string> parse_users(const YAML::Node& node) {
  std::map<std::string, std::string> users;
  if (node.IsNull()) return users;
  if (!node.IsMap())
    fail_at(node, "basic_auth_users must be a mapping of user name to bcrypt hash");
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    const std::string hash = scalar(entry.second, "basic_auth_users." + name);
    if (!is_bcrypt_hash(hash))
      fail_at(entry.second,
              fmt::format("basic_auth_users: the password of \"{}\" is not a bcrypt hash ($2y$, "
                          "$2b$ or $2a$, cost 04-31, 53 characters); make one with "
                          "mkpasswd -m bcrypt -R 10 or htpasswd -nBC 10 \"\" | tr -d ':\\n'",
                          name));
    users[name] = hash;
  }
  return users;
}

}  // namespace

const char* client_auth_name(ClientAuth auth) {
  switch (auth) {
    case ClientAuth::kNoClientCert:
      return "NoClientCert";
    case ClientAuth::kRequestClientCert:
      return "RequestClientCert";
    case ClientAuth::kRequireAnyClientCert:
      return "RequireAnyClientCert";
    case ClientAuth::kVerifyClientCertIfGiven:
      return "VerifyClientCertIfGiven";
    case ClientAuth::kRequireAndVerifyClientCert:
      return "RequireAndVerifyClientCert";
  }
  return "";
}

base::Result<WebConfig> parse_web_config(std::string_view yaml, std::string_view base_dir) {
  using Parsed = base::Result<WebConfig>;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    WebConfig config;
    if (root.IsNull()) return config;
    if (!root.IsMap())
      fail_at(root,
              "the file must be a mapping with tls_server_config, http_server_config "
              "and/or basic_auth_users");
    each_field(root, "the web config",
               {"tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"},
               [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
                 if (key == "tls_server_config") {
                   auto tls = parse_tls(map_or_null(value, key), base_dir);
                   if (!tls.cert.empty() || !tls.cert_file.empty()) config.tls = std::move(tls);
                 } else if (key == "http_server_config") {
                   each_field(
                       map_or_null(value, key), key, {"headers", "http2"},
                       [&](const std::string& field, const YAML::Node&, const YAML::Node& v) {
                         if (field == "headers") config.headers = parse_headers(v);
                         // podpath speaks HTTP/1.1 only (ALPN offers http/1.1).
                         if (field == "http2" && scalar(v, "http_server_config.http2") != "false")
                           fail_at(v,
                                   "http_server_config.http2: podpath serves HTTP/1.1 only; "
                                   "set http2: false or remove it");
                       });
                 } else if (key == "basic_auth_users") {
                   config.users = parse_users(value);
                 } else if (key == "rate_limit") {
                   fail_at(key_node,
                           "rate_limit is not supported: podpath bounds load with "
                           "--web.max-connections and --web.max-threads instead; remove it");
                 }
               });
    return config;
  } catch (const YAML::Exception& e) {
    return Parsed::failure(fmt::format("line {}: invalid YAML: {}", e.mark.line + 1, e.msg));
  } catch (const Invalid& e) {
    return Parsed::failure(e.what());
  }
}

std::pair<std::shared_ptr<const TlsSettings>, std::string> load_tls_settings(
    const TlsFileConfig& config, const ReadFile& read) {
  auto settings = std::make_shared<TlsSettings>();
  auto load = [&](const std::string& inline_pem, const std::string& path, const char* field,
                  std::string& out) -> std::string {
    if (path.empty()) {
      out = inline_pem;
      return {};
    }
    auto file = read(path);
    if (!file.ok()) return fmt::format("tls_server_config.{}: {}", field, file.message(path));
    out = std::move(*file.bytes);
    return {};
  };
  if (auto e = load(config.cert, config.cert_file, "cert_file", settings->cert_pem); !e.empty())
    return {nullptr, e};
  if (auto e = load(config.key, config.key_file, "key_file", settings->key_pem); !e.empty())
    return {nullptr, e};
  if (auto e =
          load(config.client_ca, config.client_ca_file, "client_ca_file", settings->client_ca_pem);
      !e.empty())
    return {nullptr, e};
  settings->client_auth = config.client_auth;
  settings->min_version = config.min_version;
  settings->max_version = config.max_version;
  settings->client_allowed_sans = config.client_allowed_sans;
  if (auto checked = check_tls_settings(*settings); !checked)
    return {nullptr, "tls_server_config: " + checked.error()};
  return {settings, {}};
}

}  // namespace podpath::http
