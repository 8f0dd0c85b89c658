#include "kubernetes/module.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "base/clock.h"
#include "base/file.h"
#include "kubernetes/collector.h"
#include "kubernetes/curl_api.h"
#include "kubernetes/watcher.h"
#include "module/flags.h"
#include "version.h"

namespace podpath::kubernetes {

ResolvedConfig resolve_config(const ModuleFlags& flags, const std::string& service_host,
                              const std::string& service_port) {
  ResolvedConfig resolved;
  if (!flags.kubeconfig.empty()) {
    auto file = base::read_file(flags.kubeconfig);
    if (!file.ok())
      throw module::ConfigError(
          fmt::format("--kubeconfig: cannot read {}; point it at a readable kubeconfig file",
                      flags.kubeconfig));
    auto slash = flags.kubeconfig.rfind('/');
    std::string base_dir = slash == std::string::npos ? "." : flags.kubeconfig.substr(0, slash);
    auto parsed =
        parse_kubeconfig(*file.bytes, base_dir, flags.context, "kubeconfig " + flags.kubeconfig);
    if (!parsed) throw module::ConfigError("--kubeconfig: " + parsed.error());
    resolved.config = std::move(*parsed);
    return resolved;
  }
  auto in_cluster = in_cluster_config(service_host, service_port, flags.service_account_dir);
  if (!in_cluster) {
    resolved.not_applicable_reason =
        "no --kubeconfig given and not running in a pod ($KUBERNETES_SERVICE_HOST is unset)";
    return resolved;
  }
  if (access(in_cluster->token_file.c_str(), R_OK) != 0) {
    resolved.not_applicable_reason = fmt::format(
        "$KUBERNETES_SERVICE_HOST is set but there is no service-account token at {} "
        "(automountServiceAccountToken off?)",
        in_cluster->token_file);
    return resolved;
  }
  resolved.config = std::move(in_cluster);
  return resolved;
}

KubernetesModule::KubernetesModule() = default;
KubernetesModule::~KubernetesModule() {
  stop();
}

void KubernetesModule::add_flags(CLI::App& app) {
  app.add_option("--kubeconfig", flags_.kubeconfig,
                 "Kubeconfig file for the cluster view (default: the in-cluster service "
                 "account).");
  app.add_option("--kubernetes.context", flags_.context,
                 "Kubeconfig context to use (default: its current-context).");
  app.add_option("--kubernetes.service-account-dir", flags_.service_account_dir,
                 "Directory of the in-cluster service account's token and ca.crt.")
      ->capture_default_str();
  app.add_option("--kubernetes.annotation-prefix", flags_.annotation_prefix,
                 "Prefix of flannel's node annotations (flannel's --kube-annotation-prefix).")
      ->capture_default_str();
  app.add_option("--peers.group-label", flags_.group_label,
                 "Node label whose value groups nodes (same_group, peer_group).")
      ->capture_default_str();
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  module::add_duration_flag(app, "--kubernetes.watch-timeout", flags_.watch_timeout,
                            "Time after which the API server ends a node watch (randomised up to "
                            "twice that); the watch then resumes from its last version.",
                            {seconds(1), hours(24)});
  module::add_duration_flag(app, "--kubernetes.request-timeout", flags_.request_timeout,
                            "How long a request to the API may stay silent (and connect) before "
                            "it fails.",
                            {milliseconds(100), hours(1)});
  module::add_duration_flag(app, "--kubernetes.backoff-initial", flags_.backoff_initial,
                            "First retry delay after an API error (doubles, with jitter).",
                            {milliseconds(1), hours(1)});
  module::add_duration_flag(app, "--kubernetes.backoff-max", flags_.backoff_max,
                            "Largest retry delay after API errors.", {milliseconds(1), hours(1)});
  app.add_option("--kubernetes.list-page-size", flags_.list_page_size,
                 "Nodes per page when listing.")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
}

std::vector<std::shared_ptr<metrics::Collector>> KubernetesModule::start(
    module::ModuleContext& context) {
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value != nullptr ? value : "");
  };
  ResolvedConfig resolved =
      resolve_config(flags_, env("KUBERNETES_SERVICE_HOST"), env("KUBERNETES_SERVICE_PORT"));
  if (!resolved.config) {
    context.log.info(
        "cluster view not applicable; running in kernel-only mode (set --kubeconfig to enable "
        "it, or --no-collector.kubernetes to silence this)",
        {{"reason", resolved.not_applicable_reason}});
    return {};
  }
  if (resolved.config->insecure_skip_tls_verify)
    context.log.warn("the kubeconfig disables TLS verification of the API server",
                     {{"source", resolved.config->source}});

  auto millis = [](std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d);
  };
  NodeParseOptions parse_options{flags_.group_label, flags_.annotation_prefix};
  CurlOptions curl_options;
  curl_options.request_timeout = millis(flags_.request_timeout);
  curl_options.connect_timeout =
      std::min(curl_options.request_timeout, std::chrono::milliseconds(std::chrono::seconds(10)));
  curl_options.page_size = flags_.list_page_size;
  curl_options.user_agent = std::string("podpath/") + PODPATH_VERSION;
  api_ = std::make_unique<CurlNodeApi>(*resolved.config, curl_options, parse_options);

  WatcherOptions options;
  options.self_name = context.node_name;
  options.watch_timeout = std::chrono::duration_cast<std::chrono::seconds>(flags_.watch_timeout);
  options.backoff_initial = millis(flags_.backoff_initial);
  options.backoff_max = millis(flags_.backoff_max);

  // The composition root owns the clock and the random source the watcher is given.
  auto random = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto random01 = [random] {
    return std::uniform_real_distribution<double>(0.0, 1.0)(*random);  // watcher thread only
  };
  auto unix_now = base::unix_now;
  model::PeerRegistry& peers = context.peers;
  watcher_ = std::make_shared<Watcher>(
      *api_, options,
      [&peers](std::vector<model::ClusterNode> nodes) {
        peers.set_cluster_nodes(std::move(nodes));
      },
      context.log, unix_now, random01);
  context.log.info("watching nodes",
                   {{"server", resolved.config->server}, {"source", resolved.config->source}});
  watcher_->start();
  return {std::make_shared<KubernetesCollector>(watcher_, context.tailnet)};
}

void KubernetesModule::stop() {
  if (watcher_) watcher_->stop();
}

}  // namespace podpath::kubernetes
