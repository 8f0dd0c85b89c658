#include "self/identity_collector.h"

namespace podpath::self {

metrics::CollectResult IdentityCollector::collect() {
  using metrics::MetricFamily;
  using metrics::MetricType;
  metrics::CollectResult result;
  result.families.push_back(
      MetricFamily("podpath_build_info", "podpath's version and source revision; value is 1.",
                   MetricType::kInfo)
          .add({{"version", identity_.version}, {"revision", identity_.revision}}, 1));
  result.families.push_back(
      MetricFamily("podpath_node_info",
                   "The node this exporter runs on and its group (value of --peers.group-label); "
                   "value is 1.",
                   MetricType::kInfo)
          .add({{"node", identity_.node}, {"group", group_ ? group_() : std::string()}}, 1));
  return result;
}

}  // namespace podpath::self
