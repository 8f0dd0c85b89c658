#include "kubernetes/kubeconfig.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

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

}  // namespace

KubeconfigResult parse_kubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                  const std::string& context, const std::string& source_name) {
  KubeconfigResult result;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    result.error = fmt::format("{}: not valid YAML: {}", source_name, e.what());
    return result;
  }
  if (!root || !root.IsMap()) {
    result.error = fmt::format("{}: not a kubeconfig (expected a mapping)", source_name);
    return result;
  }
  try {
    std::string context_name = context.empty() ? scalar(root, "current-context") : context;
    if (context_name.empty()) {
      result.error = fmt::format(
          "{}: no current-context; set one (kubectl config use-context) or pass "
          "--kubernetes.context",
          source_name);
      return result;
    }
    auto found_context = find_named(root, "contexts", "context", context_name);
    if (!found_context) {
      result.error = fmt::format("{}: context \"{}\" not found", source_name, context_name);
      return result;
    }
    const std::string cluster_name = scalar(*found_context, "cluster");
    const std::string user_name = scalar(*found_context, "user");
    auto found_cluster = find_named(root, "clusters", "cluster", cluster_name);
    if (!found_cluster) {
      result.error = fmt::format("{}: cluster \"{}\" (of context \"{}\") not found", source_name,
                                 cluster_name, context_name);
      return result;
    }
    const YAML::Node& cluster = *found_cluster;
    ApiConfig config;
    config.source = fmt::format("{} (context {})", source_name, context_name);
    config.server = scalar(cluster, "server");
    while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
    if (config.server.empty()) {
      result.error = fmt::format("{}: cluster \"{}\" has no server", source_name, cluster_name);
      return result;
    }
    if (!config.server.starts_with("https://") && !config.server.starts_with("http://")) {
      result.error =
          fmt::format("{}: server \"{}\" is not an http(s) URL", source_name, config.server);
      return result;
    }
    auto decode_field = [&](const YAML::Node& map, const char* key, std::string& out) -> bool {
      std::string text = scalar(map, key);
      if (text.empty()) return true;
      auto decoded = encoding::decode_base64(text);
      if (!decoded) {
        result.error = fmt::format("{}: {} is not valid base64", source_name, key);
        return false;
      }
      out = std::move(*decoded);
      return true;
    };
    if (!decode_field(cluster, "certificate-authority-data", config.ca_pem)) return result;
    config.ca_file = resolve_path(scalar(cluster, "certificate-authority"), base_dir);
    std::string insecure = scalar(cluster, "insecure-skip-tls-verify");
    config.insecure_skip_tls_verify = insecure == "true" || insecure == "True";

    if (!user_name.empty()) {
      auto found_user = find_named(root, "users", "user", user_name);
      if (!found_user) {
        result.error = fmt::format("{}: user \"{}\" (of context \"{}\") not found", source_name,
                                   user_name, context_name);
        return result;
      }
      const YAML::Node& user = *found_user;
      if (!decode_field(user, "client-certificate-data", config.client_cert_pem)) return result;
      if (!decode_field(user, "client-key-data", config.client_key_pem)) return result;
      config.client_cert_file = resolve_path(scalar(user, "client-certificate"), base_dir);
      config.client_key_file = resolve_path(scalar(user, "client-key"), base_dir);
      config.token = scalar(user, "token");
      config.token_file = resolve_path(scalar(user, "tokenFile"), base_dir);
      if (user["exec"] || user["auth-provider"]) {
        if (config.token.empty() && config.token_file.empty() && config.client_cert_pem.empty() &&
            config.client_cert_file.empty()) {
          result.error = fmt::format(
              "{}: user \"{}\" authenticates with an exec or auth-provider plugin, which "
              "podpath does not run; use a token, tokenFile or client certificate",
              source_name, user_name);
          return result;
        }
      }
      bool has_cert = !config.client_cert_pem.empty() || !config.client_cert_file.empty();
      bool has_key = !config.client_key_pem.empty() || !config.client_key_file.empty();
      if (has_cert != has_key) {
        result.error =
            fmt::format("{}: user \"{}\" has a client certificate without its key (or the reverse)",
                        source_name, user_name);
        return result;
      }
    }
    result.config = std::move(config);
  } catch (const YAML::Exception& e) {
    result.error = fmt::format("{}: unexpected structure: {}", source_name, e.what());
  }
  return result;
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
