// The tailscale module: which peers Tailscale reaches directly and which ride a
// DERP relay, from tailscaled's LocalAPI.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "module/module.h"
#include "tailscale/poller.h"
#include "tailscale/snapshot.h"

namespace podpath::tailscale {

class TailscaleModule final : public module::Module {
 public:
  TailscaleModule();
  ~TailscaleModule() override;

  std::string name() const override { return "tailscale"; }
  std::string description() const override {
    return "Tailscale peers' transport (direct, peer relay, DERP) from tailscaled's LocalAPI";
  }
  void add_flags(CLI::App& app) override;
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override;
  void stop() override;

  // The latest Tailscale view per cluster peer, for the path analysis; nullptr until started
  // (and when the collector is disabled). After stop() it keeps the last snapshot.
  std::shared_ptr<const View> view() const { return poller_ ? store_ : nullptr; }

 private:
  std::string socket_path_ = "/var/run/tailscale/tailscaled.sock";
  std::chrono::nanoseconds timeout_ = std::chrono::seconds(2);
  std::chrono::nanoseconds interval_ = std::chrono::seconds(5);
  std::shared_ptr<SnapshotStore> store_;
  std::unique_ptr<Poller> poller_;
};

}  // namespace podpath::tailscale
