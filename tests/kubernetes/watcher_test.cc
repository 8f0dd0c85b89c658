#include "kubernetes/watcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "kubernetes/collector.h"

namespace podpath::kubernetes {
namespace {

using namespace std::chrono_literals;

ParsedNode node(const std::string& name, bool ready = true, const std::string& error_field = "") {
  ParsedNode parsed;
  parsed.node.name = name;
  parsed.node.ready = ready;
  parsed.node.group = name.starts_with("lima") ? "sapporo" : "tokyo";
  if (!error_field.empty()) {
    parsed.error_field = error_field;
    parsed.node.annotation_error = error_field + ": broken";
  }
  return parsed;
}

WatchEvent event(const std::string& type, ParsedNode parsed, const std::string& rv) {
  WatchEvent e;
  e.type = type;
  e.node = std::move(parsed);
  e.resource_version = rv;
  return e;
}

WatchEvent bookmark(const std::string& rv) {
  WatchEvent e;
  e.type = "BOOKMARK";
  e.resource_version = rv;
  return e;
}

WatchEvent error_event(int code) {
  WatchEvent e;
  e.type = "ERROR";
  e.status = ApiStatus{code, code == 410 ? "Expired" : "InternalError", "boom"};
  return e;
}

struct ListStep {
  ApiResult result;
  std::vector<ParsedNode> nodes;
  std::string resource_version;
};

struct WatchStep {
  bool open = true;  // the server accepted the watch (on_open runs)
  std::vector<WatchEvent> events;
  ApiResult result;                       // what the call returns after the events
  std::chrono::milliseconds open_for{0};  // how long the stream stays open (fake clock)
};

// A scripted API: each call takes the next step; with none left it blocks until
// interrupt(), which is where the watcher sits in steady state.
class FakeApi final : public NodeApi {
 public:
  std::deque<ListStep> lists;
  std::deque<WatchStep> watches;
  // Whether the blocking watch after the script is accepted (on_open) or hangs unanswered.
  bool open_when_idle = true;
  // Runs once, on the watcher's thread, when the next scripted watch has opened.
  std::function<void()> before_events;
  // The watcher's monotonic clock; only a scripted watch moves it.
  std::atomic<long long> now_ms{0};

  ApiResult list_nodes(const std::function<void(ParsedNode&&)>& on_node,
                       std::string& resource_version) override {
    std::unique_lock lock(mutex_);
    calls_.push_back("list");
    if (lists.empty()) return block(lock);
    ListStep step = std::move(lists.front());
    lists.pop_front();
    lock.unlock();
    for (auto& n : step.nodes) on_node(std::move(n));
    resource_version = step.resource_version;
    return step.result;
  }

  ApiResult watch_nodes(const std::string& resource_version, int timeout_seconds,
                        const std::function<void()>& on_open,
                        const std::function<bool(WatchEvent&&)>& on_event) override {
    std::unique_lock lock(mutex_);
    calls_.push_back("watch " + resource_version);
    timeouts_.push_back(timeout_seconds);
    if (watches.empty()) {
      lock.unlock();
      if (open_when_idle) on_open();
      lock.lock();
      return block(lock);
    }
    WatchStep step = std::move(watches.front());
    watches.pop_front();
    lock.unlock();
    if (step.open) on_open();
    if (auto gate = std::exchange(before_events, nullptr)) gate();
    now_ms += step.open_for.count();
    for (auto& e : step.events)
      if (!on_event(std::move(e))) break;
    return step.result;
  }

  void interrupt() override {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
    changed_.notify_all();
  }

  // Waits until the watcher has used up the script and sits in a blocking call.
  bool wait_idle() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [this] { return blocked_; });
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::vector<int> timeouts() {
    std::lock_guard lock(mutex_);
    return timeouts_;
  }

 private:
  ApiResult block(std::unique_lock<std::mutex>& lock) {
    blocked_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return interrupted_; });
    return ApiResult{ApiResult::Kind::kStopped, {}, {}, false};
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool blocked_ = false;
  bool interrupted_ = false;
  std::vector<std::string> calls_;
  std::vector<int> timeouts_;
};

class WatcherTest : public testing::Test {
 protected:
  void start() {
    WatcherOptions options;
    options.self_name = "lima-k3s-agent";
    options.watch_timeout = 300s;
    options.backoff_initial = 100ms;
    options.backoff_max = 1000ms;
    options.publish_delay = publish_delay_;
    watcher_ = std::make_unique<Watcher>(
        api_, options,
        [this](std::vector<model::ClusterNode> nodes) {
          std::lock_guard lock(mutex_);
          published_.push_back(std::move(nodes));
          published_changed_.notify_all();
        },
        log_, [] { return 1700000000.0; }, [this] { return random_; },
        [this](std::chrono::milliseconds delay) {
          std::lock_guard lock(mutex_);
          sleeps_.push_back(delay.count());
          return true;
        },
        [this] {
          return std::chrono::steady_clock::time_point(std::chrono::milliseconds(api_.now_ms));
        });
    watcher_->start();
  }

  // The last published node names once the publisher has caught up with `expected`.
  bool wait_published(const std::vector<std::string>& expected) {
    std::unique_lock lock(mutex_);
    return published_changed_.wait_for(lock, 5s, [&] {
      if (published_.empty()) return false;
      std::vector<std::string> names;
      for (const auto& n : published_.back()) names.push_back(n.name);
      return names == expected;
    });
  }
  bool wait_published_where(
      const std::function<bool(const std::vector<model::ClusterNode>&)>& want) {
    std::unique_lock lock(mutex_);
    return published_changed_.wait_for(
        lock, 5s, [&] { return !published_.empty() && want(published_.back()); });
  }
  std::vector<model::ClusterNode> last_published() {
    std::lock_guard lock(mutex_);
    return published_.empty() ? std::vector<model::ClusterNode>{} : published_.back();
  }
  std::vector<long> sleeps() {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

  void TearDown() override {
    if (watcher_) watcher_->stop();
  }

  FakeApi api_;
  base::Logger log_{base::LogLevel::kError, base::LogFormat::kLogfmt, [](std::string_view) {}};
  double random_ = 0.5;
  std::chrono::milliseconds publish_delay_ = 0ms;
  std::unique_ptr<Watcher> watcher_;
  std::mutex mutex_;
  std::condition_variable published_changed_;
  std::vector<std::vector<model::ClusterNode>> published_;
  std::vector<long> sleeps_;
};

TEST_F(WatcherTest, ListsThenWatchesAndFollowsEveryEvent) {
  api_.lists.push_back({ApiResult::ok(), {node("ip-172-26-2-70"), node("lima-k3s-agent")}, "10"});
  api_.watches.push_back({true,
                          {event("ADDED", node("lima-k3s-agent-2"), "11"),
                           event("MODIFIED", node("ip-172-26-2-70", /*ready=*/false), "12"),
                           event("DELETED", node("lima-k3s-agent-2"), "13"), bookmark("20")},
                          ApiResult::ok()});
  start();
  ASSERT_TRUE(api_.wait_idle());
  // The clean end of the first watch resumes from the bookmark's version: no second list.
  EXPECT_EQ(api_.calls(), (std::vector<std::string>{"list", "watch 10", "watch 20"}));
  // (the list's own publish has these names too: wait for the one after the events)
  ASSERT_TRUE(wait_published_where([](const std::vector<model::ClusterNode>& nodes) {
    return nodes.size() == 2 && nodes[0].name == "ip-172-26-2-70" && !nodes[0].ready &&
           nodes[1].name == "lima-k3s-agent";
  }));  // NotReady is marked, the peer is kept

  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_TRUE(s.synced);
  EXPECT_TRUE(s.healthy);
  EXPECT_EQ(s.node_count, 2u);
  ASSERT_TRUE(s.self);
  EXPECT_EQ(s.self->group, "sapporo");
  EXPECT_EQ(s.events["ADDED"], 1u);
  EXPECT_EQ(s.events["MODIFIED"], 1u);
  EXPECT_EQ(s.events["DELETED"], 1u);
  EXPECT_EQ(s.events["BOOKMARK"], 1u);
  EXPECT_EQ(s.events["ERROR"], 0u);
  EXPECT_EQ(s.relists, 0u);
  EXPECT_EQ(s.last_event_unix, 1700000000.0);
  EXPECT_EQ(s.last_success_unix, 1700000000.0);
  EXPECT_TRUE(sleeps().empty());
  // timeoutSeconds is jittered in [T, 2T): random 0.5 -> 450.
  EXPECT_EQ(api_.timeouts(), (std::vector<int>{450, 450}));
}

TEST_F(WatcherTest, GoneAsErrorEventOrHttpStatusRelists) {
  api_.lists.push_back({ApiResult::ok(), {node("a"), node("b")}, "10"});
  api_.watches.push_back({true, {error_event(410)}, ApiResult::ok()});
  // The second list no longer has b: it must disappear.
  api_.lists.push_back({ApiResult::ok(), {node("a")}, "30"});
  api_.watches.push_back({false, {}, ApiResult{ApiResult::Kind::kGone, {}, "expired", false}});
  api_.lists.push_back({ApiResult::ok(), {node("a"), node("c")}, "40"});
  start();
  ASSERT_TRUE(api_.wait_idle());
  EXPECT_EQ(api_.calls(),
            (std::vector<std::string>{"list", "watch 10", "list", "watch 30", "list", "watch 40"}));
  ASSERT_TRUE(wait_published({"a", "c"}));
  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_EQ(s.relists, 2u);
  EXPECT_EQ(s.events["ERROR"], 1u);
  EXPECT_TRUE(s.healthy);
  EXPECT_TRUE(sleeps().empty()) << "410 re-lists at once";
}

TEST_F(WatcherTest, UnreachableApiBacksOffAndKeepsTheLastGoodNodes) {
  api_.lists.push_back({ApiResult::ok(), {node("a"), node("b")}, "10"});
  for (int i = 0; i < 5; ++i)
    api_.watches.push_back(
        {false, {}, ApiResult::failed(ApiError::kConnect, "cannot connect: refused")});
  random_ = 0.0;  // the low end of the jitter: 0.75 of the base
  start();
  ASSERT_TRUE(api_.wait_idle());
  EXPECT_EQ(sleeps(), (std::vector<long>{75, 150, 300, 600, 750}));
  // Every retry watches from the last version; nothing is re-listed.
  auto calls = api_.calls();
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "list"), 1);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "watch 10"), 6);
  // The final (blocking) watch was accepted: healthy again.
  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_TRUE(s.healthy);
  EXPECT_EQ(s.errors["connect"], 5u);
  EXPECT_EQ(s.node_count, 2u);
  ASSERT_TRUE(wait_published({"a", "b"}));
}

TEST_F(WatcherTest, AWatchThatStayedOpenEndsTheBackoffOfTheOutageBefore) {
  api_.lists.push_back({ApiResult::ok(), {node("a")}, "10"});
  const auto refused = ApiResult::failed(ApiError::kConnect, "cannot connect: refused");
  const auto reset = ApiResult::failed(ApiError::kConnect, "connection reset", true);
  for (int i = 0; i < 3; ++i) api_.watches.push_back({false, {}, refused});
  // Back for 2 s without a single event (no bookmarks), then cut: a new fault.
  api_.watches.push_back({true, {}, reset, 2000ms});
  api_.watches.push_back({false, {}, refused});
  // Accepted but cut after half a second: not yet proof that the API is back.
  api_.watches.push_back({true, {}, reset, 500ms});
  random_ = 0.0;  // the low end of the jitter: 0.75 of the base
  start();
  ASSERT_TRUE(api_.wait_idle());
  EXPECT_EQ(sleeps(), (std::vector<long>{75, 150, 300, 75, 150, 300}));
}

TEST_F(WatcherTest, StaleWhileDownKeepsTheLastGoodViewAndTheCollectorFails) {
  api_.lists.push_back({ApiResult::ok(), {node("a"), node("lima-k3s-agent")}, "10"});
  api_.watches.push_back({true, {error_event(410)}, ApiResult::ok()});
  api_.lists.push_back({ApiResult::failed(ApiError::kConnect, "cannot connect: refused"), {}, ""});
  start();
  ASSERT_TRUE(api_.wait_idle());  // blocked in the third list
  ASSERT_TRUE(wait_published({"a", "lima-k3s-agent"}));
  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_TRUE(s.synced);
  EXPECT_FALSE(s.healthy);
  EXPECT_EQ(s.node_count, 2u);
  EXPECT_EQ(s.errors["connect"], 1u);
  EXPECT_EQ(s.last_success_unix, 1700000000.0);  // the last good moment, not "now"
  KubernetesCollector collector(std::shared_ptr<const Watcher>(watcher_.get(), [](auto*) {}));
  auto result = collector.collect();
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.error, "cannot connect: refused");
  bool stale_seen = false;
  for (const auto& family : result.families) {
    if (family.name == "podpath_kubernetes_view_stale") {
      stale_seen = true;
      EXPECT_EQ(family.metrics.at(0).value, 1);
    }
    if (family.name == "podpath_kubernetes_nodes") {
      EXPECT_EQ(family.metrics.at(0).value, 2);
    }
  }
  EXPECT_TRUE(stale_seen);
  // No peer disappeared from the registry while the API is down.
  EXPECT_EQ(last_published().size(), 2u);
}

TEST_F(WatcherTest, InitialListFailureIsReportedUntilAListSucceeds) {
  api_.lists.push_back({ApiResult::failed(ApiError::kTls,
                                          "TLS: the certificate of "
                                          "https://x is not trusted"),
                        {},
                        ""});
  start();
  ASSERT_TRUE(api_.wait_idle());  // blocks in the second list
  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_FALSE(s.synced);
  EXPECT_FALSE(s.healthy);
  EXPECT_EQ(s.last_error, "TLS: the certificate of https://x is not trusted");
  EXPECT_EQ(s.errors["tls"], 1u);
  EXPECT_FALSE(s.last_success_unix);
  KubernetesCollector collector(std::shared_ptr<const Watcher>(watcher_.get(), [](auto*) {}));
  auto result = collector.collect();
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.error, s.last_error);
  EXPECT_EQ(sleeps(), (std::vector<long>{100}));
}

TEST_F(WatcherTest, DroppedWatchResumesFromTheLastVersionWithoutGoingUnhealthy) {
  api_.lists.push_back({ApiResult::ok(), {node("a")}, "10"});
  api_.watches.push_back({true,
                          {event("ADDED", node("b"), "11")},
                          ApiResult::failed(ApiError::kConnect, "connection reset", true)});
  start();
  ASSERT_TRUE(api_.wait_idle());
  EXPECT_EQ(api_.calls(), (std::vector<std::string>{"list", "watch 10", "watch 11"}));
  ASSERT_TRUE(wait_published({"a", "b"}));
  EXPECT_TRUE(watcher_->snapshot().healthy);
}

TEST_F(WatcherTest, UnreadableWatchStreamIsAnApiFaultNotADroppedWatch) {
  api_.lists.push_back({ApiResult::ok(), {node("a")}, "10"});
  // The server accepted the watch (200), then sent what cannot be parsed.
  api_.watches.push_back(
      {true, {}, ApiResult::failed(ApiError::kDecode, "watch stream: syntax error", true)});
  api_.open_when_idle = false;  // the retry waits for an answer: the state in between
  start();
  ASSERT_TRUE(api_.wait_idle());
  EXPECT_EQ(api_.calls(), (std::vector<std::string>{"list", "watch 10", "watch 10"}));
  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_FALSE(s.healthy) << "garbage from the API must show as a failed collector";
  EXPECT_EQ(s.errors["decode"], 1u);
  EXPECT_EQ(s.last_error, "watch stream: syntax error");
  EXPECT_EQ(sleeps(), (std::vector<long>{100}));
  EXPECT_EQ(s.node_count, 1u);  // the last good view is kept
}

TEST_F(WatcherTest, AnnotationErrorsFollowTheNodes) {
  api_.lists.push_back({ApiResult::ok(),
                        {node("a"), node("bad-ip", true, "flannel.alpha.coreos.com/public-ip")},
                        "10"});
  api_.watches.push_back(
      {true,
       {event("ADDED", node("bad-mac", true, "flannel.alpha.coreos.com/backend-data"), "11"),
        event("MODIFIED", node("bad-ip"), "12")},
       ApiResult::ok()});
  start();
  ASSERT_TRUE(api_.wait_idle());
  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_EQ(
      s.annotation_errors,
      (std::map<std::string, std::string>{{"bad-mac", "flannel.alpha.coreos.com/backend-data"}}));
  ASSERT_TRUE(wait_published({"a", "bad-ip", "bad-mac"}));
}

TEST_F(WatcherTest, ListPublishesWithoutTheDebounceDelay) {
  publish_delay_ = 60s;  // additions and changes would wait this long
  api_.lists.push_back({ApiResult::ok(), {node("a"), node("b")}, "10"});
  start();
  ASSERT_TRUE(wait_published({"a", "b"}));
}

// kubelet's periodic status report (every 5 minutes per node): at 5,000 nodes ~17 MODIFIED
// events a second whose changes (heartbeat times) podpath does not keep. They are counted, and
// publish nothing: each publish copies and compares the whole node list.
TEST_F(WatcherTest, AStatusReportThatChangesNothingKeptPublishesNothing) {
  api_.lists.push_back({ApiResult::ok(), {node("a"), node("b")}, "10"});
  api_.watches.push_back({true,
                          {event("MODIFIED", node("a"), "11"), event("MODIFIED", node("b"), "12"),
                           event("MODIFIED", node("a"), "13"), bookmark("20")},
                          ApiResult::ok()});
  // The events come once the list is published, so they cannot ride along in its publish.
  api_.before_events = [this] { ASSERT_TRUE(wait_published({"a", "b"})); };
  start();
  ASSERT_TRUE(api_.wait_idle());
  std::this_thread::sleep_for(200ms);  // a publish the events asked for would be done by now
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(published_.size(), 1u);  // the list's
  }
  EXPECT_EQ(watcher_->snapshot().events["MODIFIED"], 3u);
  // (a MODIFIED that changes what is kept is published: ListsThenWatchesAndFollowsEveryEvent)
}

TEST_F(WatcherTest, DeletionFlushesPendingChanges) {
  publish_delay_ = 60s;
  api_.lists.push_back({ApiResult::ok(), {node("a"), node("b")}, "10"});
  api_.watches.push_back({true,
                          {event("ADDED", node("c"), "11"), event("DELETED", node("a"), "12")},
                          ApiResult::ok()});
  start();
  // The deletion is published at once and carries the pending addition with it.
  ASSERT_TRUE(wait_published({"b", "c"}));
}

TEST_F(WatcherTest, NonGoneErrorEventRetriesTheWatch) {
  api_.lists.push_back({ApiResult::ok(), {node("a")}, "10"});
  api_.watches.push_back({true, {error_event(500)}, ApiResult::ok()});
  start();
  ASSERT_TRUE(api_.wait_idle());
  EXPECT_EQ(api_.calls(), (std::vector<std::string>{"list", "watch 10", "watch 10"}));
  WatcherSnapshot s = watcher_->snapshot();
  EXPECT_EQ(s.events["ERROR"], 1u);
  EXPECT_EQ(s.errors["http"], 1u);
  EXPECT_EQ(s.relists, 0u);
  EXPECT_EQ(sleeps().size(), 1u);
}

}  // namespace
}  // namespace podpath::kubernetes
