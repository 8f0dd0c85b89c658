// The flannel collector: flannel's subnet.env, read at scrape time.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/logger.h"
#include "flannel/subnet_env.h"
#include "flannel/view.h"
#include "metrics/collector.h"

namespace podpath::flannel {

// podpath_flannel_subnet_info (one series per address family) and podpath_flannel_mtu_bytes.
std::vector<metrics::MetricFamily> subnet_families(const SubnetEnv& env);

// subnet.env is a few hundred bytes; anything larger than this is not it.
inline base::FileRead read_subnet_file(const std::string& path) {
  return base::read_file(path, std::size_t{1} << 20);
}

class FlannelCollector final : public metrics::Collector, public SubnetView {
 public:
  using UnixClock = std::function<double()>;
  FlannelCollector(std::string subnet_file, base::Logger& log, UnixClock now,
                   base::FileReader reader = read_subnet_file);

  std::string name() const override { return "flannel"; }
  metrics::CollectResult collect() override;

  std::optional<SubnetEnv> latest() const override;
  std::string refused() const override;

 private:
  const std::string path_;
  base::Logger& log_;
  UnixClock now_;
  base::FileReader reader_;

  mutable std::mutex mutex_;  // guards everything below
  std::optional<SubnetEnv> latest_;
  std::string refused_;
  std::vector<metrics::MetricFamily> last_good_;
  std::optional<double> last_success_;
  bool reported_missing_ = false;  // "not applicable" is logged once per disappearance
};

}  // namespace podpath::flannel
