#include "metrics/scraper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <stdexcept>
#include <thread>

namespace podpath::metrics {
namespace {

using namespace std::chrono_literals;

class FixedCollector : public Collector {
 public:
  FixedCollector(std::string name, double value, bool ok = true)
      : name_(std::move(name)), value_(value), ok_(ok) {}
  std::string name() const override { return name_; }
  CollectResult collect() override {
    ++calls;
    CollectResult r;
    r.success = ok_;
    if (!ok_) r.error = "broken on purpose";
    r.families.push_back(
        MetricFamily("test_value", "v", MetricType::kGauge).add({{"from", name_}}, value_));
    return r;
  }
  std::atomic<int> calls{0};

 private:
  std::string name_;
  double value_;
  bool ok_;
};

// Blocks until released, to stand in for a hung source (an API server that never answers).
class BlockingCollector : public Collector {
 public:
  std::string name() const override { return "slow"; }
  CollectResult collect() override {
    ++calls;
    std::unique_lock lock(mutex_);
    released_.wait(lock, [this] { return released; });
    CollectResult r;
    r.families.push_back(MetricFamily("slow_value", "v", MetricType::kGauge).add({}, 1));
    return r;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released = true;
    }
    released_.notify_all();
  }
  std::atomic<int> calls{0};

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool released = false;
};

class ThrowingCollector : public Collector {
 public:
  std::string name() const override { return "throws"; }
  CollectResult collect() override { throw std::runtime_error("bug"); }
};

const Metric* find(const std::vector<MetricFamily>& families, const std::string& family,
                   const std::string& collector) {
  for (const auto& f : families)
    if (f.name == family)
      for (const auto& m : f.metrics)
        for (const auto& [k, v] : m.labels)
          if (k == "collector" && v == collector) return &m;
  return nullptr;
}

TEST(Scraper, ReportsSuccessAndDurationPerCollector) {
  Scraper scraper;
  scraper.add(std::make_shared<FixedCollector>("good", 1));
  scraper.add(std::make_shared<FixedCollector>("bad", 2, false));
  auto outcome = scraper.scrape(Scraper::Clock::now() + 5s);
  ASSERT_NE(find(outcome.families, "podpath_collector_success", "good"), nullptr);
  EXPECT_EQ(find(outcome.families, "podpath_collector_success", "good")->value, 1);
  EXPECT_EQ(find(outcome.families, "podpath_collector_success", "bad")->value, 0);
  EXPECT_NE(find(outcome.families, "podpath_collector_duration_seconds", "bad"), nullptr);
  // A failing collector's families still count: it may report partial data.
  int values = 0;
  for (const auto& f : outcome.families)
    if (f.name == "test_value") values = static_cast<int>(f.metrics.size());
  EXPECT_EQ(values, 2);
  ASSERT_EQ(outcome.problems.size(), 1u);
  EXPECT_NE(outcome.problems[0].find("broken on purpose"), std::string::npos);
}

TEST(Scraper, SlowCollectorDoesNotStallTheScrapeOrTheOthers) {
  Scraper scraper;
  auto slow = std::make_shared<BlockingCollector>();
  auto fast = std::make_shared<FixedCollector>("fast", 1);
  scraper.add(slow);
  scraper.add(fast);
  auto start = Scraper::Clock::now();
  auto outcome = scraper.scrape(start + 200ms);
  auto took = Scraper::Clock::now() - start;
  EXPECT_LT(took, 2s);
  EXPECT_EQ(find(outcome.families, "podpath_collector_success", "slow")->value, 0);
  EXPECT_EQ(find(outcome.families, "podpath_collector_success", "fast")->value, 1);
  for (const auto& f : outcome.families) EXPECT_NE(f.name, "slow_value");

  // The next scrape joins the call still in flight instead of starting another one.
  auto second = scraper.scrape(Scraper::Clock::now() + 50ms);
  EXPECT_EQ(slow->calls.load(), 1);
  EXPECT_EQ(find(second.families, "podpath_collector_success", "slow")->value, 0);

  slow->release();
  auto third = scraper.scrape(Scraper::Clock::now() + 5s);
  EXPECT_EQ(find(third.families, "podpath_collector_success", "slow")->value, 1);
}

TEST(Scraper, ConcurrentScrapesShareOneCollection) {
  Scraper scraper;
  auto slow = std::make_shared<BlockingCollector>();
  scraper.add(slow);
  std::vector<std::thread> scrapers;
  std::atomic<int> succeeded{0};
  for (int i = 0; i < 8; ++i)
    scrapers.emplace_back([&] {
      auto outcome = scraper.scrape(Scraper::Clock::now() + 5s);
      if (find(outcome.families, "podpath_collector_success", "slow")->value == 1) ++succeeded;
    });
  std::this_thread::sleep_for(100ms);
  slow->release();
  for (auto& t : scrapers) t.join();
  EXPECT_EQ(succeeded.load(), 8);
  EXPECT_EQ(slow->calls.load(), 1);
}

TEST(Scraper, ExceptionBecomesFailureNotCrash) {
  Scraper scraper;
  scraper.add(std::make_shared<ThrowingCollector>());
  auto outcome = scraper.scrape(Scraper::Clock::now() + 5s);
  EXPECT_EQ(find(outcome.families, "podpath_collector_success", "throws")->value, 0);
  ASSERT_EQ(outcome.problems.size(), 1u);
  EXPECT_NE(outcome.problems[0].find("bug"), std::string::npos);
}

TEST(Scraper, BackgroundCollectorsReportLastSuccess) {
  class Background : public Collector {
   public:
    std::string name() const override { return "bg"; }
    CollectResult collect() override {
      CollectResult r;
      r.last_success_unix_seconds = 1700000000.5;
      return r;
    }
  };
  Scraper scraper;
  scraper.add(std::make_shared<Background>());
  auto outcome = scraper.scrape(Scraper::Clock::now() + 5s);
  auto* m = find(outcome.families, "podpath_collector_last_success_timestamp_seconds", "bg");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->value, 1700000000.5);
}

TEST(Scraper, LaterPhaseSeesThisScrapesEarlierResults) {
  std::atomic<int> produced{0};
  class Producer : public Collector {
   public:
    explicit Producer(std::atomic<int>& n) : n_(n) {}
    std::string name() const override { return "producer"; }
    CollectResult collect() override {
      std::this_thread::sleep_for(50ms);
      ++n_;
      return {};
    }
    std::atomic<int>& n_;
  };
  class Joiner : public Collector {
   public:
    explicit Joiner(std::atomic<int>& n) : n_(n) {}
    std::string name() const override { return "joiner"; }
    int phase() const override { return 1; }
    CollectResult collect() override {
      CollectResult r;
      r.families.push_back(MetricFamily("seen", "s", MetricType::kGauge).add({}, n_.load()));
      return r;
    }
    std::atomic<int>& n_;
  };
  Scraper scraper;
  scraper.add(std::make_shared<Joiner>(produced));  // registered first on purpose
  scraper.add(std::make_shared<Producer>(produced));
  for (int i = 1; i <= 2; ++i) {
    auto outcome = scraper.scrape(Scraper::Clock::now() + 5s);
    double seen = -1;
    for (const auto& f : outcome.families)
      if (f.name == "seen") seen = f.metrics.at(0).value;
    EXPECT_EQ(seen, i);
  }
}

}  // namespace
}  // namespace podpath::metrics
