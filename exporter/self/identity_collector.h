// podpath_build_info and podpath_node_info: who this exporter is.
#pragma once

#include <functional>
#include <string>

#include "metrics/collector.h"

namespace podpath::self {

struct Identity {
  std::string version;
  std::string revision;
  std::string node;
};

class IdentityCollector final : public metrics::Collector {
 public:
  // group() gives this node's group as the cluster view knows it (empty until then).
  IdentityCollector(Identity identity, std::function<std::string()> group)
      : identity_(std::move(identity)), group_(std::move(group)) {}
  std::string name() const override { return "identity"; }
  metrics::CollectResult collect() override;

 private:
  Identity identity_;
  std::function<std::string()> group_;
};

}  // namespace podpath::self
