#include "analysis/module.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <deque>
#include <mutex>

#include "analysis/analyse.h"
#include "analysis/families.h"
#include "analysis/probe_window.h"
#include "app/web.h"
#include "flannel/collector.h"
#include "netlink/collector.h"
#include "prober/prober.h"
#include "tailscale/snapshot.h"

namespace podpath::analysis {
namespace {

struct Options {
  std::string overlay_device = "flannel.1";
  double same_group_rtt_seconds = 0.020;
  double cross_group_rtt_seconds = 0.100;
  double window_seconds = 30;
};

class AnalysisCollector final : public metrics::Collector, public Reporter, public app::StatusPage {
 public:
  AnalysisCollector(Options options, module::ModuleContext& context)
      : options_(std::move(options)),
        peers_(context.peers),
        kernel_(context.services.find<netlink::KernelView>()),
        flannel_(context.services.find<flannel::SubnetView>()),
        tailscale_(context.services.find<tailscale::View>()),
        prober_(context.services.find<prober::Prober>()),
        window_(std::chrono::duration<double>(options_.window_seconds)) {}

  std::string name() const override { return "analysis"; }
  int phase() const override { return 1; }

  metrics::CollectResult collect() override {
    Inputs in;
    in.peers = *peers_.current();
    in.overlay_device = options_.overlay_device;
    in.thresholds.same_group_rtt_seconds = options_.same_group_rtt_seconds;
    in.thresholds.cross_group_rtt_seconds = options_.cross_group_rtt_seconds;
    if (kernel_)
      if (auto k = kernel_->latest()) in.kernel = *k;
    if (flannel_) in.subnet_env = flannel_->latest();
    if (tailscale_) {
      auto snapshot = tailscale_->latest();
      if (snapshot && snapshot->availability == tailscale::Availability::kAvailable &&
          snapshot->status) {
        // The mapping was made for the peer set the poller last saw; map again when the
        // peer set moved on since, so a new node is not missing its transport.
        in.tailscale = snapshot->peer_generation == in.peers.generation
                           ? *snapshot
                           : tailscale::remap(*snapshot, in.peers);
      }
    }
    if (prober_) {
      in.prober_enabled = true;
      if (auto snapshot = prober_->snapshot()) {
        std::lock_guard lock(window_mutex_);
        window_.add(std::chrono::steady_clock::now(), snapshot);
        window_.fill(in);
      }
    }
    auto report = std::make_shared<const NodeReport>(analyse(in));
    metrics::CollectResult result;
    result.families = to_families(*report);
    {
      std::lock_guard lock(mutex_);
      latest_ = std::move(report);
    }
    return result;
  }

  std::shared_ptr<const NodeReport> latest() const override {
    std::lock_guard lock(mutex_);
    return latest_;
  }

 private:
  const Options options_;
  model::PeerRegistry& peers_;
  const std::shared_ptr<netlink::KernelView> kernel_;
  const std::shared_ptr<flannel::SubnetView> flannel_;
  const std::shared_ptr<tailscale::View> tailscale_;
  const std::shared_ptr<prober::Prober> prober_;

  std::mutex window_mutex_;  // guards window_
  ProbeWindow window_;
  mutable std::mutex mutex_;  // guards latest_
  std::shared_ptr<const NodeReport> latest_;
};

class AnalysisModule final : public module::Module {
 public:
  std::string name() const override { return "analysis"; }
  std::string description() const override {
    return "one verdict per peer joining the kernel, cluster, Tailscale and probe views";
  }
  void add_flags(CLI::App& app) override {
    app.add_option("--analysis.overlay-device", options_.overlay_device,
                   "flannel's overlay device (its MTU is what pods are told).")
        ->capture_default_str();
    app.add_option("--analysis.same-group-rtt", options_.same_group_rtt_seconds,
                   "Seconds of overlay RTT above which a same-group peer is a finding "
                   "(Longhorn's 20 ms).")
        ->capture_default_str();
    app.add_option("--analysis.cross-group-rtt", options_.cross_group_rtt_seconds,
                   "Seconds of overlay RTT above which a cross-group peer is a finding.")
        ->capture_default_str();
    app.add_option("--analysis.window", options_.window_seconds,
                   "Seconds of probe results the verdict's RTT and loss are computed over.")
        ->capture_default_str();
  }
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override {
    if (options_.same_group_rtt_seconds <= 0 || options_.cross_group_rtt_seconds <= 0)
      throw module::ConfigError(
          "--analysis.same-group-rtt and --analysis.cross-group-rtt must be positive seconds, "
          "e.g. 0.02 and 0.1");
    if (options_.window_seconds < 1 || options_.window_seconds > 3600)
      throw module::ConfigError("--analysis.window must be 1..3600 seconds, e.g. 30");
    auto collector = std::make_shared<AnalysisCollector>(options_, context);
    context.services.provide<Reporter>(collector);
    context.services.provide<app::StatusPage>(collector);
    return {collector};
  }

 private:
  Options options_;
};

}  // namespace

std::unique_ptr<module::Module> make_module() {
  return std::make_unique<AnalysisModule>();
}

}  // namespace podpath::analysis
