#include "kubernetes/kubeconfig.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "base/result.h"
#include "encoding/base64.h"

namespace podpath::kubernetes {

namespace {

std::string scalar(const YAML::Node& map, const char* key) {
  if (!map || !map.IsMap()) return {};
  YAML::Node value = map[key];
  if (!value || !value.IsScalar()) return {};
  return value.as<std::string>();
}

// kubeconfig lists are [{name: x, cluster|user|context: {...}}]; returns the inner map.
// (A default YAML::Node is a defined null, so "not found" needs the optional.)
std::optional<YAML::Node> find_named(const YAML::Node& root, const char* list, const char* inner,
                                     const std::string& name) {
  YAML::Node entries = root[list];
  if (!entries || !entries.IsSequence()) return std::nullopt;
  for (const auto& entry : entries) {
    if (scalar(entry, "name") == name) {
      YAML::Node value = entry[inner];
      return value && value.IsMap() ? value : YAML::Node(YAML::NodeType::Map);
    }
  }
  return std::nullopt;
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// The base64 field `key` of `map` decoded into `out`; an absent field leaves `out` empty.
base::Status decode_field(const YAML::Node& map, const char* key, const std::string& source_name,
                          std::string& out) {
  std::string text = scalar(map, key);
  if (text.empty()) return base::Status::success();
  auto decoded = encoding::decode_base64(text);
  if (!decoded)
    return base::Status::failure(fmt::format("{}: {} is not valid base64", source_name, key));
  out = std::move(*decoded);
  return base::Status::success();
}

// Where the server is and which CA to trust.
base::Status read_cluster(const YAML::Node& cluster, const std::string& cluster_name,
                          const std::string& base_dir, const std::string& source_name,
                          ApiConfig& config) {
  config.server = scalar(cluster, "server");
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.empty())
    return base::Status::failure(
        fmt::format("{}: cluster \"{}\" has no server", source_name, cluster_name));
  if (!config.server.starts_with("https://") && !config.server.starts_with("http://"))
    return base::Status::failure(
        fmt::format("{}: server \"{}\" is not an http(s) URL", source_name, config.server));
  if (auto decoded =
          decode_field(cluster, "certificate-authority-data", source_name, config.ca_pem);
      !decoded)
    return decoded;
  config.ca_file = resolve_path(scalar(cluster, "certificate-authority"), base_dir);
  std::string insecure = scalar(cluster, "insecure-skip-tls-verify");
  config.insecure_skip_tls_verify = insecure == "true" || insecure == "True";
  return base::Status::success();
}

// The credentials: a client certificate and key, a token or a token file. Exec and
// auth-provider plugins are not run, so a user with nothing else is refused.
base::Status read_user(const YAML::Node& user, const std::string& user_name,
                       const std::string& base_dir, const std::string& source_name,
                       ApiConfig& config) {
  if (auto decoded =
          decode_field(user, "client-certificate-data", source_name, config.client_cert_pem);
      !decoded)
    return decoded;
  if (auto decoded = decode_field(user, "client-key-data", source_name, config.client_key_pem);
      !decoded)
    return decoded;
  config.client_cert_file = resolve_path(scalar(user, "client-certificate"), base_dir);
  config.client_key_file = resolve_path(scalar(user, "client-key"), base_dir);
  config.token = scalar(user, "token");
  config.token_file = resolve_path(scalar(user, "tokenFile"), base_dir);
  const bool has_cert = !config.client_cert_pem.empty() || !config.client_cert_file.empty();
  const bool has_key = !config.client_key_pem.empty() || !config.client_key_file.empty();
  if ((user["exec"] || user["auth-provider"]) && config.token.empty() &&
      config.token_file.empty() && !has_cert)
    return base::Status::failure(fmt::format(
        "{}: user \"{}\" authenticates with an exec or auth-provider plugin, which podpath "
        "does not run; use a token, tokenFile or client certificate",
        source_name, user_name));
  if (has_cert != has_key)
    return base::Status::failure(
        fmt::format("{}: user \"{}\" has a client certificate without its key (or the reverse)",
                    source_name, user_name));
  return base::Status::success();
}

// The context's cluster and, when it names one, its user.
base::Result<ApiConfig> read_context(const YAML::Node& root, const std::string& context_name,
                                     const std::string& base_dir, const std::string& source_name) {
  using Config = base::Result<ApiConfig>;
  auto context = find_named(root, "contexts", "context", context_name);
  if (!context)
    return Config::failure(fmt::format("{}: context \"{}\" not found", source_name, context_name));
  const std::string cluster_name = scalar(*context, "cluster");
  const std::string user_name = scalar(*context, "user");
  auto cluster = find_named(root, "clusters", "cluster", cluster_name);
  if (!cluster)
    return Config::failure(fmt::format("{}: cluster \"{}\" (of context \"{}\") not found",
                                       source_name, cluster_name, context_name));
  ApiConfig config;
  config.source = fmt::format("{} (context {})", source_name, context_name);
  if (auto read = read_cluster(*cluster, cluster_name, base_dir, source_name, config); !read)
    return Config::failure(read.error());
  if (user_name.empty()) return config;
  auto user = find_named(root, "users", "user", user_name);
  if (!user)
    return Config::failure(fmt::format("{}: user \"{}\" (of context \"{}\") not found", source_name,
                                       user_name, context_name));
  if (auto read = read_user(*user, user_name, base_dir, source_name, config); !read)
    return Config::failure(read.error());
  return config;
}

}  // namespace

base::Result<ApiConfig> parse_kubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                         const std::string& context,
                                         const std::string& source_name) {
  using Parsed = base::Result<ApiConfig>;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Parsed::failure(fmt::format("{}: not valid YAML: {}", source_name, e.what()));
  }
  if (!root || !root.IsMap())
    return Parsed::failure(fmt::format("{}: not a kubeconfig (expected a mapping)", source_name));
  try {
    const std::string context_name = context.empty() ? scalar(root, "current-context") : context;
    if (context_name.empty())
      return Parsed::failure(
          fmt::format("{}: no current-context; set one (kubectl config "
                      "use-context) or pass --kubernetes.context",
                      source_name));
    auto config = read_context(root, context_name, base_dir, source_name);
    if (!config) return Parsed::failure(config.error());
    return std::move(*config);
  } catch (const YAML::Exception& e) {
    return Parsed::failure(fmt::format("{}: unexpected structure: {}", source_name, e.what()));
  }
}

std::optional<ApiConfig> in_cluster_config(const std::string& host, const std::string& port,
                                           const std::string& dir) {
  if (host.empty() || port.empty()) return std::nullopt;
  ApiConfig config;
  // An IPv6 service address needs brackets in a URL.
  const bool v6 = host.find(':') != std::string::npos;
  config.server = fmt::format("https://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port);
  config.ca_file = dir + "/ca.crt";
  config.token_file = dir + "/token";
  config.source = fmt::format("in-cluster service account ({})", dir);
  return config;
}

}  // namespace podpath::kubernetes
