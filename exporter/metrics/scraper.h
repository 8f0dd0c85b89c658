// Runs every collector for a scrape, concurrently and under one deadline, and adds
// podpath_collector_success / _duration_seconds / _last_success_timestamp_seconds.
//
// Each collector runs on its own thread. A collector still busy when the deadline passes
// is reported as failed for this scrape and its families are left out, so one slow
// source never stalls the others or the scrape. A collector still busy from an earlier
// scrape is not started twice: later scrapes wait for (and share) the call in flight,
// which also means concurrent scrapes cost one collection, not one each.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/collector.h"

namespace podpath::metrics {

struct ScrapeOutcome {
  std::vector<MetricFamily> families;  // normalized: sorted, merged
  std::vector<std::string> problems;   // per-collector failures, for logging
};

class Scraper {
 public:
  using Clock = std::chrono::steady_clock;
  Scraper() = default;
  ~Scraper();  // waits for collections in flight

  void add(std::shared_ptr<Collector> collector);
  ScrapeOutcome scrape(Clock::time_point deadline);

 private:
  struct Slot {
    std::shared_ptr<Collector> collector;
    std::mutex mutex;  // guards in_flight
    std::shared_future<std::pair<CollectResult, double>> in_flight;
  };
  std::shared_future<std::pair<CollectResult, double>> start_or_join(Slot& slot);

  std::vector<std::unique_ptr<Slot>> slots_;  // fixed after start-up
};

}  // namespace podpath::metrics
