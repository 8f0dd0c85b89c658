#include "flannel/collector.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>

namespace podpath::flannel {

std::vector<metrics::MetricFamily> subnet_families(const SubnetEnv& env) {
  metrics::MetricFamily info("podpath_flannel_subnet_info",
                             "flannel's cluster network and this node's lease, from subnet.env "
                             "(one series per address family).",
                             metrics::MetricType::kInfo);
  if (!env.subnet.empty()) info.add({{"network", env.network}, {"subnet", env.subnet}}, 1);
  if (!env.ipv6_subnet.empty())
    info.add({{"network", env.ipv6_network}, {"subnet", env.ipv6_subnet}}, 1);
  metrics::MetricFamily mtu("podpath_flannel_mtu_bytes",
                            "The MTU flannel gives pods (FLANNEL_MTU in subnet.env).",
                            metrics::MetricType::kGauge);
  if (env.mtu) mtu.add({}, *env.mtu);
  return {info, mtu};
}

FileRead read_whole_file(const std::string& path) {
  // One open and reads to EOF of that one file description: flannel replaces the file by
  // rename, so this sees either the old or the new file, never a mix.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {std::nullopt, errno};
  std::string bytes;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return {std::nullopt, error};
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
    // subnet.env is a few hundred bytes; anything this large is not it.
    if (bytes.size() > (1u << 20)) {
      ::close(fd);
      return {std::nullopt, EFBIG};
    }
  }
  ::close(fd);
  return {std::move(bytes), 0};
}

FlannelCollector::FlannelCollector(std::string subnet_file, base::Logger& log, UnixClock now,
                                   FileReader reader)
    : path_(std::move(subnet_file)), log_(log), now_(std::move(now)), reader_(std::move(reader)) {}

std::optional<SubnetEnv> FlannelCollector::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

metrics::CollectResult FlannelCollector::collect() {
  FileRead file = reader_(path_);
  std::lock_guard lock(mutex_);
  if (!file.bytes && (file.error == ENOENT || file.error == ENOTDIR)) {
    // Not a flannel node (or flannel not started yet): nothing to report, not a failure.
    if (!reported_missing_)
      log_.info("flannel subnet file not found; flannel collector has nothing to report",
                {{"path", path_}});
    reported_missing_ = true;
    latest_.reset();
    last_good_.clear();
    last_success_.reset();
    return {};
  }
  reported_missing_ = false;
  auto fail = [&](std::string why) {
    // The last good series stay, marked stale by success=0 and the last-success timestamp.
    auto result = metrics::CollectResult::failure(std::move(why));
    result.families = last_good_;
    result.last_success_unix_seconds = last_success_;
    return result;
  };
  if (!file.bytes) return fail(fmt::format("{}: {}", path_, strerror(file.error)));
  SubnetEnvParse parsed = parse_subnet_env(*file.bytes);
  if (!parsed.env) return fail(fmt::format("{}: {}", path_, parsed.error));
  metrics::CollectResult result;
  result.families = subnet_families(*parsed.env);
  latest_ = std::move(parsed.env);
  last_good_ = result.families;
  last_success_ = now_();
  return result;
}

}  // namespace podpath::flannel
