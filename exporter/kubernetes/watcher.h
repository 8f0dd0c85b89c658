// The node watcher: list, then watch from the list's resourceVersion, for the life of the
// exporter. One watch per exporter and no polling: a watch the server ends is resumed from
// the last version seen (bookmarks keep it fresh), 410 Gone re-lists, errors back off
// exponentially with jitter. The kept state is the map name -> ClusterNode, published to
// the peer registry (debounced) and summarised for the collector.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/logger.h"
#include "kubernetes/api.h"
#include "kubernetes/backoff.h"
#include "model/peer.h"

namespace podpath::kubernetes {

struct WatcherOptions {
  std::string self_name;
  // The server ends each watch after a random time in [watch_timeout, 2 * watch_timeout),
  // as client-go's reflector asks, so exporters restarted together spread their re-watches.
  std::chrono::seconds watch_timeout{300};
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
  // Changes are published at most this long after they arrive; a burst becomes one publish.
  // Deletions are published at once.
  std::chrono::milliseconds publish_delay{100};
};

// What the collector shows; copied out under the watcher's lock.
struct WatcherSnapshot {
  bool synced = false;   // a list has succeeded
  bool healthy = false;  // the last request to the API succeeded
  std::string last_error;
  std::size_t node_count = 0;
  std::optional<model::ClusterNode> self;
  std::map<std::string, std::string> annotation_errors;  // node -> annotation (field)
  std::map<std::string, std::uint64_t> events;           // by type, all types present
  std::map<std::string, std::uint64_t> errors;           // by ApiError name, all present
  std::uint64_t relists = 0;
  std::optional<double> last_event_unix;
  std::optional<double> last_success_unix;
};

class Watcher {
 public:
  using Publish = std::function<void(std::vector<model::ClusterNode>)>;
  // Waits for the given time; returns false when the watcher is stopping. Tests pass one
  // that records the delays.
  using Sleep = std::function<bool(std::chrono::milliseconds)>;
  // The monotonic clock that says how long a watch stayed open; tests pass a fake one.
  using Monotonic = std::function<std::chrono::steady_clock::time_point()>;

  Watcher(NodeApi& api, WatcherOptions options, Publish publish, base::Logger& log,
          std::function<double()> unix_now, std::function<double()> random01, Sleep sleep = {},
          Monotonic monotonic = {});
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void start();  // runs the loop and the publisher on their own threads
  void stop();   // interrupts the API call in progress and joins both threads

  WatcherSnapshot snapshot() const;

 private:
  void run();
  void publish_loop();
  bool list();
  // One watch from resource_version_, then what its end calls for: a list, a backoff, or
  // nothing (the loop resumes the watch).
  struct WatchRound;
  void watch();
  int next_watch_timeout();
  void on_watch_opened(WatchRound& round);
  bool on_watch_event(WatchEvent&& event, WatchRound& round);  // false ends the watch
  void on_watch_error(const ApiStatus& status, WatchRound& round);
  void after_watch(ApiResult result, const WatchRound& round);
  void apply(WatchEvent&& event);
  void warn_if_unreadable(const ParsedNode& parsed);
  void record_error(const ApiResult& result, bool unhealthy);
  bool sleep_backoff();
  void mark_dirty_locked();

  NodeApi& api_;
  const WatcherOptions options_;
  const Publish publish_;
  base::Logger& log_;
  const std::function<double()> unix_now_;
  const std::function<double()> random01_;
  Sleep sleep_;
  Monotonic monotonic_;
  Backoff backoff_;               // used by the loop thread only
  std::string resource_version_;  // loop thread only

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool dirty_ = false;
  bool urgent_ = false;  // a DELETED is pending: publish without the delay
  std::map<std::string, model::ClusterNode> nodes_;
  std::map<std::string, std::string> error_fields_;  // broken nodes only
  WatcherSnapshot stats_;  // counters and health; node fields filled by snapshot()
  bool watching_ = false;  // a watch stream is open
  double last_good_unix_ = 0;
  bool self_missing_logged_ = false;

  std::thread loop_thread_;
  std::thread publish_thread_;
};

}  // namespace podpath::kubernetes
