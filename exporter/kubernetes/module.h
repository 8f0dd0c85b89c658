// The kubernetes module: the cluster view. Finds the API (--kubeconfig, else the
// in-cluster service account), watches the nodes and publishes them to the peer registry.
// Without either, the exporter runs in kernel-only mode.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "kubernetes/kubeconfig.h"
#include "module/module.h"

namespace podpath::kubernetes {

class CurlNodeApi;
class Watcher;

struct ModuleFlags {
  std::string kubeconfig;
  std::string context;
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::string annotation_prefix = "flannel.alpha.coreos.com";
  std::string group_label = "topology.kubernetes.io/zone";
  std::chrono::nanoseconds watch_timeout = std::chrono::minutes(5);
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(30);
  std::chrono::nanoseconds backoff_initial = std::chrono::seconds(1);
  std::chrono::nanoseconds backoff_max = std::chrono::seconds(30);
  int list_page_size = 500;
};

struct ResolvedConfig {
  std::optional<ApiConfig> config;  // nullopt: not applicable (kernel-only mode)
  std::string not_applicable_reason;
};

// --kubeconfig wins; else in-cluster when $KUBERNETES_SERVICE_HOST/PORT are set and the
// token exists; else not applicable. Throws module::ConfigError for a broken --kubeconfig.
ResolvedConfig resolve_config(const ModuleFlags& flags, const std::string& service_host,
                              const std::string& service_port);

class KubernetesModule final : public module::Module {
 public:
  KubernetesModule();
  ~KubernetesModule() override;
  std::string name() const override { return "kubernetes"; }
  std::string description() const override {
    return "the cluster view: nodes, their flannel annotations and groups, from the Kubernetes "
           "API";
  }
  void add_flags(CLI::App& app) override;
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override;
  void stop() override;

 private:
  ModuleFlags flags_;
  std::unique_ptr<CurlNodeApi> api_;
  std::shared_ptr<Watcher> watcher_;
};

}  // namespace podpath::kubernetes
