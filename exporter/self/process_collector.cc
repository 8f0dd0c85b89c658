#include "self/process_collector.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"

namespace podpath::self {

std::optional<StatFields> parse_proc_pid_stat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream in{std::string(text.substr(close + 1))};
  // Fields after the command: 3 state, 4 ppid ... 14 utime, 15 stime ... 22 starttime,
  // 23 vsize, 24 rss (proc(5)). Field 3 is the first token here.
  std::string token;
  StatFields out;
  for (int field = 3; field <= 24; ++field) {
    if (!(in >> token)) return std::nullopt;
    try {
      switch (field) {
        case 14:
          out.utime_ticks = std::stoull(token);
          break;
        case 15:
          out.stime_ticks = std::stoull(token);
          break;
        case 22:
          out.starttime_ticks = std::stoull(token);
          break;
        case 23:
          out.vsize_bytes = std::stoull(token);
          break;
        case 24:
          out.rss_pages = std::stoll(token);
          break;
        default:
          break;
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return out;
}

std::optional<double> parse_boot_time(std::string_view proc_stat) {
  std::istringstream in{std::string(proc_stat)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) {
      try {
        return std::stod(line.substr(6));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::optional<double> parse_max_open_files(std::string_view limits) {
  std::istringstream in{std::string(limits)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(std::string_view("Max open files").size()));
    std::string soft;
    fields >> soft;
    if (soft == "unlimited") return std::numeric_limits<double>::infinity();
    try {
      return std::stod(soft);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

ProcessCollector::ProcessCollector(std::string proc_root, std::string pid)
    : proc_root_(std::move(proc_root)), pid_(std::move(pid)) {}

metrics::CollectResult ProcessCollector::collect() {
  using metrics::MetricFamily;
  using metrics::MetricType;
  const std::string dir = fmt::format("{}/{}", proc_root_, pid_);
  auto stat_text = base::read_file(dir + "/stat").bytes;
  auto proc_stat_text = base::read_file(proc_root_ + "/stat").bytes;
  auto limits_text = base::read_file(dir + "/limits").bytes;
  if (!stat_text || !proc_stat_text || !limits_text)
    return metrics::CollectResult::failure(fmt::format("cannot read {}/stat or limits", dir));
  auto stat = parse_proc_pid_stat(*stat_text);
  auto boot = parse_boot_time(*proc_stat_text);
  auto max_fds = parse_max_open_files(*limits_text);
  if (!stat || !boot || !max_fds)
    return metrics::CollectResult::failure(fmt::format("cannot parse {}/stat or limits", dir));

  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator(dir + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;

  metrics::CollectResult result;
  auto gauge = [&](const char* name, const char* help, double value, MetricType type) {
    result.families.push_back(MetricFamily(name, help, type).add({}, value));
  };
  gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
        (stat->utime_ticks + stat->stime_ticks) / ticks, MetricType::kCounter);
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
        static_cast<double>(stat->vsize_bytes), MetricType::kGauge);
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
        static_cast<double>(stat->rss_pages) * page, MetricType::kGauge);
  gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        *boot + stat->starttime_ticks / ticks, MetricType::kGauge);
  gauge("process_open_fds", "Number of open file descriptors.", fds, MetricType::kGauge);
  gauge("process_max_fds", "Maximum number of open file descriptors.", *max_fds,
        MetricType::kGauge);
  return result;
}

}  // namespace podpath::self
