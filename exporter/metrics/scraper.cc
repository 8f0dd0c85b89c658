#include "metrics/scraper.h"

#include <fmt/format.h>

#include <algorithm>

#include "metrics/exposition.h"

namespace podpath::metrics {

Scraper::~Scraper() {
  for (auto& slot : slots_) {
    std::lock_guard lock(slot->mutex);
    if (slot->in_flight.valid()) slot->in_flight.wait();
  }
}

void Scraper::add(std::shared_ptr<Collector> collector) {
  auto slot = std::make_unique<Slot>();
  slot->collector = std::move(collector);
  slots_.push_back(std::move(slot));
}

std::shared_future<std::pair<CollectResult, double>> Scraper::start_or_join(Slot& slot) {
  std::lock_guard lock(slot.mutex);
  if (slot.in_flight.valid() &&
      slot.in_flight.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return slot.in_flight;
  }
  std::shared_ptr<Collector> collector = slot.collector;
  slot.in_flight = std::async(std::launch::async, [collector]() {
                     auto start = Clock::now();
                     CollectResult result;
                     try {
                       result = collector->collect();
                     } catch (const std::exception& e) {
                       // Collectors report environmental errors as results; an exception
                       // is a bug, but it must not take the scrape down with it.
                       result = CollectResult::failure(fmt::format("exception: {}", e.what()));
                     }
                     std::chrono::duration<double> took = Clock::now() - start;
                     return std::pair{std::move(result), took.count()};
                   }).share();
  return slot.in_flight;
}

ScrapeOutcome Scraper::scrape(Clock::time_point deadline) {
  const auto started = Clock::now();
  std::vector<std::shared_future<std::pair<CollectResult, double>>> futures(slots_.size());
  int last_phase = 0;
  for (const auto& slot : slots_) last_phase = std::max(last_phase, slot->collector->phase());
  for (int phase = 0; phase <= last_phase; ++phase) {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i]->collector->phase() == phase) futures[i] = start_or_join(*slots_[i]);
    if (phase == last_phase) break;
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i]->collector->phase() == phase) futures[i].wait_until(deadline);
  }

  ScrapeOutcome outcome;
  MetricFamily success("podpath_collector_success",
                       "1 when the collector's last run succeeded, 0 when it failed or timed out.",
                       MetricType::kGauge);
  MetricFamily duration("podpath_collector_duration_seconds",
                        "How long the collector's run for this scrape took.", MetricType::kGauge);
  MetricFamily last_success("podpath_collector_last_success_timestamp_seconds",
                            "Unix time of the background collector's last successful update.",
                            MetricType::kGauge);
  for (size_t i = 0; i < slots_.size(); ++i) {
    const std::string name = slots_[i]->collector->name();
    Labels labels{{"collector", name}};
    if (futures[i].wait_until(deadline) != std::future_status::ready) {
      std::chrono::duration<double> waited = Clock::now() - started;
      success.add(labels, 0);
      duration.add(labels, waited.count());
      outcome.problems.push_back(
          fmt::format("collector {} did not finish before the scrape deadline", name));
      continue;
    }
    const auto& [result, seconds] = futures[i].get();
    success.add(labels, result.success ? 1 : 0);
    duration.add(labels, seconds);
    if (result.last_success_unix_seconds)
      last_success.add(labels, *result.last_success_unix_seconds);
    if (!result.success)
      outcome.problems.push_back(fmt::format("collector {}: {}", name, result.error));
    for (const auto& family : result.families) outcome.families.push_back(family);
  }
  // A finished call is not joined again (start_or_join starts anew), so the slots need not
  // keep its result: at 5,000 nodes that is tens of MB of families held between scrapes.
  // A scrape that joined the call holds its own future; the result goes with the last one.
  for (auto& slot : slots_) {
    std::lock_guard lock(slot->mutex);
    if (slot->in_flight.valid() &&
        slot->in_flight.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      slot->in_flight = {};
  }
  outcome.families.push_back(std::move(success));
  outcome.families.push_back(std::move(duration));
  if (!last_success.metrics.empty()) outcome.families.push_back(std::move(last_success));
  outcome.families = normalize(std::move(outcome.families), &outcome.problems);
  return outcome;
}

}  // namespace podpath::metrics
