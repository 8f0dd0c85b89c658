// The standard process_* metrics every Prometheus exporter offers, read from /proc.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "metrics/collector.h"

namespace podpath::self {

struct ProcessStats {
  double cpu_seconds = 0;
  double virtual_memory_bytes = 0;
  double resident_memory_bytes = 0;
  double start_time_seconds = 0;  // Unix time
  double open_fds = 0;
  double max_fds = 0;
};

// Pure parsers over /proc text, so tests feed captured files.
// stat: /proc/<pid>/stat; the command name may contain spaces and ')' so parsing starts
// after the last ')'.
struct StatFields {
  unsigned long long utime_ticks = 0, stime_ticks = 0, starttime_ticks = 0;
  unsigned long long vsize_bytes = 0;
  long long rss_pages = 0;
};
std::optional<StatFields> parse_proc_pid_stat(std::string_view text);
std::optional<double> parse_boot_time(std::string_view proc_stat);    // "btime N"
std::optional<double> parse_max_open_files(std::string_view limits);  // soft limit

class ProcessCollector final : public metrics::Collector {
 public:
  // proc_root is "/proc" in production; tests point it at a fixture tree.
  explicit ProcessCollector(std::string proc_root = "/proc", std::string pid = "self");
  std::string name() const override { return "process"; }
  metrics::CollectResult collect() override;

 private:
  std::string proc_root_;
  std::string pid_;
};

}  // namespace podpath::self
