// The flannel collector: flannel's subnet.env, read at scrape time.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/logger.h"
#include "flannel/subnet_env.h"
#include "metrics/collector.h"

namespace podpath::flannel {

// podpath_flannel_subnet_info (one series per address family) and podpath_flannel_mtu_bytes.
std::vector<metrics::MetricFamily> subnet_families(const SubnetEnv& env);

// The file's bytes, read in one go; nullopt with errno_out = ENOENT when it does not exist.
struct FileRead {
  std::optional<std::string> bytes;
  int error = 0;  // errno of the failed open/read
};
using FileReader = std::function<FileRead(const std::string& path)>;
FileRead read_whole_file(const std::string& path);

// What other modules read (found through module::Services): the last good subnet.env.
class SubnetView {
 public:
  virtual ~SubnetView() = default;
  // nullopt before the first successful read, or once the file is gone.
  virtual std::optional<SubnetEnv> latest() const = 0;
};

class FlannelCollector final : public metrics::Collector, public SubnetView {
 public:
  using UnixClock = std::function<double()>;
  FlannelCollector(std::string subnet_file, base::Logger& log, UnixClock now,
                   FileReader reader = read_whole_file);

  std::string name() const override { return "flannel"; }
  metrics::CollectResult collect() override;

  std::optional<SubnetEnv> latest() const override;

 private:
  const std::string path_;
  base::Logger& log_;
  UnixClock now_;
  FileReader reader_;

  mutable std::mutex mutex_;  // guards everything below
  std::optional<SubnetEnv> latest_;
  std::vector<metrics::MetricFamily> last_good_;
  std::optional<double> last_success_;
  bool reported_missing_ = false;  // "not applicable" is logged once per disappearance
};

}  // namespace podpath::flannel
