// Module "analysis" (collector "analysis"): joins the other modules' latest views into one
// verdict per peer at scrape time (phase 1, after the kernel was read), exports the verdict
// metrics, and keeps the report for the status page and the doctor command.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "analysis/reporter.h"
#include "analysis/verdict.h"
#include "flannel/view.h"
#include "module/module.h"
#include "netlink/view.h"
#include "prober/view.h"
#include "tailscale/view.h"
#include "wireguard/view.h"

namespace podpath::analysis {

// The views the analysis joins. Each is asked for once, at start(), after the modules that
// offer it have started; nullptr means that module is off, which the report says.
struct Sources {
  std::function<std::shared_ptr<const netlink::KernelView>()> kernel;
  std::function<std::shared_ptr<const flannel::SubnetView>()> subnet;
  std::function<std::shared_ptr<const tailscale::View>()> tailscale;
  std::function<std::shared_ptr<const wireguard::View>()> wireguard;
  std::function<std::shared_ptr<const prober::ResultsView>()> probes;
};

// The analysis flags; the latency bounds default to Thresholds{} (analysis/analyse.h), which
// tests/alerts check against alerts/config.yaml.
struct AnalysisOptions {
  std::chrono::nanoseconds same_group_rtt;
  std::chrono::nanoseconds cross_group_rtt;
  std::chrono::nanoseconds window = std::chrono::seconds(30);
  std::chrono::nanoseconds key_expiry_warning;
  AnalysisOptions();
};

class AnalysisCollector;

class AnalysisModule final : public module::Module {
 public:
  explicit AnalysisModule(Sources sources);
  ~AnalysisModule() override;

  std::string name() const override { return "analysis"; }
  std::string description() const override;
  void add_flags(CLI::App& app) override;
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override;

  // nullptr until started (and when the collector is disabled).
  std::shared_ptr<const Reporter> reporter() const;

 private:
  Sources sources_;
  AnalysisOptions options_;
  std::shared_ptr<AnalysisCollector> collector_;
};

}  // namespace podpath::analysis
