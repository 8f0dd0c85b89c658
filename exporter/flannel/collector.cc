#include "flannel/collector.h"

#include <fmt/format.h>
#include <string.h>

#include <cerrno>

namespace podpath::flannel {

std::vector<metrics::MetricFamily> subnet_families(const SubnetEnv& env) {
  metrics::MetricFamily info("podpath_flannel_subnet_info",
                             "flannel's cluster network and this node's lease, from subnet.env "
                             "(one series per address family).",
                             metrics::MetricType::kInfo);
  if (!env.subnet.empty())
    info.add({{"family", "ipv4"}, {"network", env.network}, {"subnet", env.subnet}}, 1);
  if (!env.ipv6_subnet.empty())
    info.add({{"family", "ipv6"}, {"network", env.ipv6_network}, {"subnet", env.ipv6_subnet}}, 1);
  metrics::MetricFamily mtu("podpath_flannel_mtu_bytes",
                            "The MTU flannel gives pods (FLANNEL_MTU in subnet.env).",
                            metrics::MetricType::kGauge);
  if (env.mtu) mtu.add({}, *env.mtu);
  return {info, mtu};
}

FlannelCollector::FlannelCollector(std::string subnet_file, base::Logger& log, UnixClock now,
                                   base::FileReader reader)
    : path_(std::move(subnet_file)), log_(log), now_(std::move(now)), reader_(std::move(reader)) {}

std::optional<SubnetEnv> FlannelCollector::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::string FlannelCollector::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

metrics::CollectResult FlannelCollector::collect() {
  base::FileRead file = reader_(path_);
  std::lock_guard lock(mutex_);
  if (!file.bytes && (file.error == ENOENT || file.error == ENOTDIR)) {
    // Not a flannel node (or flannel not started yet): nothing to report, not a failure.
    if (!reported_missing_)
      log_.info("flannel subnet file not found; flannel collector has nothing to report",
                {{"path", path_}});
    reported_missing_ = true;
    refused_.clear();
    latest_.reset();
    last_good_.clear();
    last_success_.reset();
    return {};
  }
  reported_missing_ = false;
  auto fail = [&](std::string why) {
    // The last good series stay, marked stale by success=0 and the last-success timestamp.
    refused_ = why;
    auto result = metrics::CollectResult::failure(std::move(why));
    result.families = last_good_;
    result.last_success_unix_seconds = last_success_;
    return result;
  };
  if (!file.bytes) return fail(fmt::format("{}: {}", path_, strerror(file.error)));
  auto parsed = parse_subnet_env(*file.bytes);
  if (!parsed) return fail(fmt::format("{}: {}", path_, parsed.error()));
  metrics::CollectResult result;
  result.families = subnet_families(*parsed);
  latest_ = std::move(*parsed);
  refused_.clear();
  last_good_ = result.families;
  last_success_ = now_();
  return result;
}

}  // namespace podpath::flannel
