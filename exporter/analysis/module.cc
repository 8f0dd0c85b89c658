#include "analysis/module.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <mutex>

#include "analysis/analyse.h"
#include "analysis/families.h"
#include "analysis/probe_window.h"
#include "module/flags.h"
#include "tailscale/snapshot.h"
#include "wireguard/snapshot.h"

namespace podpath::analysis {

namespace {

std::chrono::nanoseconds from_seconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(seconds));
}

double seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

AnalysisOptions::AnalysisOptions()
    : same_group_rtt(from_seconds(Thresholds{}.same_group_rtt_seconds)),
      cross_group_rtt(from_seconds(Thresholds{}.cross_group_rtt_seconds)),
      key_expiry_warning(from_seconds(Thresholds{}.key_expiry_warning_seconds)) {}

struct ResolvedSources {
  std::shared_ptr<const netlink::KernelView> kernel;
  std::shared_ptr<const flannel::SubnetView> subnet;
  std::shared_ptr<const tailscale::View> tailscale;
  std::shared_ptr<const wireguard::View> wireguard;
  std::shared_ptr<const prober::ResultsView> probes;
};

class AnalysisCollector final : public metrics::Collector, public Reporter {
 public:
  AnalysisCollector(const AnalysisOptions& options, std::string overlay_device,
                    model::PeerRegistry& peers, ResolvedSources sources)
      : options_(options),
        overlay_device_(std::move(overlay_device)),
        peers_(peers),
        sources_(std::move(sources)),
        window_(std::chrono::duration<double>(options_.window)) {}

  std::string name() const override { return "analysis"; }
  int phase() const override { return 1; }

  metrics::CollectResult collect() override {
    auto report = std::make_shared<const NodeReport>(analyse(inputs()));
    metrics::CollectResult result;
    result.families = to_families(*report);
    std::lock_guard lock(mutex_);
    latest_ = std::move(report);
    return result;
  }

  std::shared_ptr<const NodeReport> latest() const override {
    std::lock_guard lock(mutex_);
    return latest_;
  }

 private:
  Inputs inputs() {
    Inputs in;
    in.peers = *peers_.current();
    in.overlay_device = overlay_device_;
    in.thresholds.same_group_rtt_seconds = seconds(options_.same_group_rtt);
    in.thresholds.cross_group_rtt_seconds = seconds(options_.cross_group_rtt);
    in.thresholds.key_expiry_warning_seconds = seconds(options_.key_expiry_warning);
    in.now_unix_seconds =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (sources_.kernel)
      if (auto k = sources_.kernel->latest()) in.kernel = *k;
    if (sources_.subnet) {
      in.subnet_env = sources_.subnet->latest();
      in.subnet_env_refused = sources_.subnet->refused();
    }
    if (sources_.tailscale) in.tailscale = tailscale_for(in.peers);
    if (sources_.wireguard)
      if (auto w = sources_.wireguard->latest()) in.wireguard = *w;
    if (sources_.probes) {
      in.prober_enabled = true;
      if (auto snapshot = sources_.probes->snapshot()) {
        std::lock_guard lock(window_mutex_);
        window_.add(std::chrono::steady_clock::now(), snapshot);
        window_.fill(in);
      }
    }
    return in;
  }

  std::optional<tailscale::Snapshot> tailscale_for(const model::PeerSet& peers) const {
    auto snapshot = sources_.tailscale->latest();
    if (!snapshot || snapshot->availability != tailscale::Availability::kAvailable ||
        !snapshot->status)
      return std::nullopt;
    // The mapping was made for the peer set the poller last saw; map again when the peer set
    // moved on since, so a new node is not missing its transport.
    return snapshot->peer_generation == peers.generation ? *snapshot
                                                         : tailscale::remap(*snapshot, peers);
  }

  const AnalysisOptions options_;
  const std::string overlay_device_;
  model::PeerRegistry& peers_;
  const ResolvedSources sources_;

  std::mutex window_mutex_;  // guards window_
  ProbeWindow window_;
  mutable std::mutex mutex_;  // guards latest_
  std::shared_ptr<const NodeReport> latest_;
};

AnalysisModule::AnalysisModule(Sources sources) : sources_(std::move(sources)) {}
AnalysisModule::~AnalysisModule() = default;

std::string AnalysisModule::description() const {
  return "one verdict per peer joining the kernel, cluster, Tailscale, WireGuard and probe views";
}

void AnalysisModule::add_flags(CLI::App& app) {
  module::add_duration_flag(app, "--analysis.same-group-rtt", options_.same_group_rtt,
                            "Overlay RTT above which a same-group peer is a finding (Longhorn's "
                            "20ms).",
                            {std::chrono::microseconds(1), std::chrono::minutes(1)});
  module::add_duration_flag(app, "--analysis.cross-group-rtt", options_.cross_group_rtt,
                            "Overlay RTT above which a cross-group peer is a finding.",
                            {std::chrono::microseconds(1), std::chrono::minutes(1)});
  module::add_duration_flag(app, "--analysis.window", options_.window,
                            "Probe results the verdict's RTT and loss are computed over.",
                            {std::chrono::seconds(1), std::chrono::hours(1)});
  module::add_duration_flag(app, "--analysis.key-expiry-warning", options_.key_expiry_warning,
                            "A Tailscale node key (this node's or a peer's) expiring sooner than "
                            "this is a finding (tailscale-key-expiring, "
                            "tailscale-peer-key-expiring); 0 turns the warning off.",
                            {std::chrono::seconds(0), std::chrono::hours(24 * 366)});
}

std::vector<std::shared_ptr<metrics::Collector>> AnalysisModule::start(
    module::ModuleContext& context) {
  auto ask = [](const auto& getter) { return getter ? getter() : nullptr; };
  ResolvedSources resolved{ask(sources_.kernel), ask(sources_.subnet), ask(sources_.tailscale),
                           ask(sources_.wireguard), ask(sources_.probes)};
  collector_ = std::make_shared<AnalysisCollector>(options_, context.overlay_device, context.peers,
                                                   std::move(resolved));
  return {collector_};
}

std::shared_ptr<const Reporter> AnalysisModule::reporter() const {
  return collector_;
}

}  // namespace podpath::analysis
