#include "self/process_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

namespace podpath::self {
namespace {

const metrics::Metric& only(const metrics::CollectResult& r, const std::string& name) {
  for (const auto& f : r.families)
    if (f.name == name) return f.metrics.at(0);
  throw std::runtime_error("no family " + name);
}

TEST(ProcessStat, ParsesFieldsAfterTheCommandName) {
  // The command name contains a space and a ')' on purpose.
  auto s = parse_proc_pid_stat(
      "12345 (podpath exp) ter) S 1 12345 12345 0 -1 4194560 1200 0 0 0 150 50 0 0 20 0 9 0 "
      "4242 628436992 1231 18446744073709551615");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->utime_ticks, 150u);
  EXPECT_EQ(s->stime_ticks, 50u);
  EXPECT_EQ(s->starttime_ticks, 4242u);
  EXPECT_EQ(s->vsize_bytes, 628436992u);
  EXPECT_EQ(s->rss_pages, 1231);
  EXPECT_FALSE(parse_proc_pid_stat("garbage"));
  EXPECT_FALSE(parse_proc_pid_stat("1 (x) S 1 2"));
  EXPECT_FALSE(parse_proc_pid_stat("1 (x) S 1 2 3 4 5 6 7 8 9 10 x y 0 0 20 0 9 0 1 2 3"));
}

TEST(ProcessStat, BootTimeAndLimits) {
  EXPECT_EQ(parse_boot_time("cpu 1\nbtime 1795600000\n"), 1795600000.0);
  EXPECT_FALSE(parse_boot_time("cpu 1\n"));
  EXPECT_EQ(parse_max_open_files("Max open files            1024    524288    files\n"), 1024.0);
  EXPECT_TRUE(std::isinf(*parse_max_open_files("Max open files  unlimited  unlimited  files\n")));
  EXPECT_FALSE(parse_max_open_files("Max cpu time unlimited\n"));
}

TEST(ProcessCollector, ReadsFixtureTree) {
  ProcessCollector collector(std::string(PODPATH_TESTDATA) + "/self/testdata/proc", "self");
  auto r = collector.collect();
  ASSERT_TRUE(r.success) << r.error;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(only(r, "process_cpu_seconds_total").value, 200 / ticks);
  EXPECT_DOUBLE_EQ(only(r, "process_start_time_seconds").value, 1795600000 + 4242 / ticks);
  EXPECT_EQ(only(r, "process_max_fds").value, 1024);
  EXPECT_EQ(only(r, "process_open_fds").value, 3);
  EXPECT_EQ(only(r, "process_virtual_memory_bytes").value, 628436992);
}

TEST(ProcessCollector, MissingProcIsAFailureNotACrash) {
  ProcessCollector collector("/nonexistent-proc", "self");
  auto r = collector.collect();
  EXPECT_FALSE(r.success);
  EXPECT_NE(r.error.find("/nonexistent-proc"), std::string::npos);
}

}  // namespace
}  // namespace podpath::self
