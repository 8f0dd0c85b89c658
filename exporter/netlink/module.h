// Module "netlink": the kernel view of this node (links, vxlan attributes, flannel's
// kernel-side peers, route lookups towards every peer).
#pragma once

#include <memory>
#include <string>

#include "module/module.h"
#include "netlink/view.h"

namespace podpath::netlink {

class NetlinkCollector;

class NetlinkModule final : public module::Module {
 public:
  NetlinkModule();
  ~NetlinkModule() override;

  std::string name() const override { return "netlink"; }
  std::string description() const override;
  void add_flags(CLI::App& app) override;
  std::vector<std::shared_ptr<metrics::Collector>> start(module::ModuleContext& context) override;

  // nullptr until started (and when the collector is disabled).
  std::shared_ptr<const KernelView> kernel_view() const;

 private:
  std::string include_;
  std::string exclude_;
  // flannel.<VNI> (IPv4) and flannel-v6.<VNI> (IPv6; flannel pkg/backend/vxlan/vxlan.go).
  std::string flannel_devices_ = "flannel(-v6)?\\.[0-9]+";
  std::shared_ptr<NetlinkCollector> collector_;
};

}  // namespace podpath::netlink
