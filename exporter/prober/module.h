// Module "prober" (collector "prober"): flags, start-up checks, and the collector that
// copies the prober's latest snapshot.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "module/module.h"
#include "prober/view.h"

namespace podpath::prober {

class Prober;

// The flags as typed; start() turns them into the loop's ProberConfig or a ConfigError.
struct ProberFlags {
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  std::chrono::nanoseconds timeout = std::chrono::seconds(1);
  std::string buckets;  // empty: smokeping_prober's 50us doubling 20 times
  std::size_t max_peers = 100;
  std::chrono::nanoseconds pmtu_interval = std::chrono::minutes(1);  // 0 disables
  bool exposure = true;
  std::chrono::nanoseconds exposure_interval = std::chrono::minutes(1);
  int vni = 1;
  std::uint16_t vxlan_port = 8472;
  std::string static_targets;
};

class ProberModule final : public module::Module {
 public:
  ProberModule();
  ~ProberModule() override;

  std::string name() const override { return "prober"; }
  std::string description() const override;
  void add_flags(CLI::App& app) override;
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override;
  void stop() override;

  // nullptr until started (and when the collector is disabled).
  std::shared_ptr<const ResultsView> results() const;

 private:
  ProberFlags flags_;
  std::shared_ptr<Prober> prober_;
};

}  // namespace podpath::prober
