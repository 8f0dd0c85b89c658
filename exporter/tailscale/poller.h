// Polls tailscaled's LocalAPI on its own schedule and publishes snapshots, so a scrape never
// waits on the socket. A change of the peer set remaps the last status at once, without
// asking tailscaled again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/logger.h"
#include "model/peer.h"
#include "tailscale/localapi.h"
#include "tailscale/snapshot.h"

namespace podpath::tailscale {

struct PollerOptions {
  std::string socket_path;  // for log messages only; the LocalApi knows where it talks
  std::chrono::milliseconds interval{5000};
};

class Poller {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  Poller(std::unique_ptr<LocalApi> api, model::PeerRegistry& peers,
         std::shared_ptr<SnapshotStore> store, base::Logger& log, PollerOptions options,
         WallClock clock);
  ~Poller();  // stops and joins
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  void start();  // the first poll runs at once on the background thread
  void stop();

  // One poll and publish, on the caller's thread; only while the background thread is not
  // running (tests, and the thread itself).
  void poll_once();

 private:
  // Shared with the peer registry's listener, which the registry keeps for its lifetime
  // (there is no unsubscribe): the listener must not reach into a destroyed Poller.
  struct Wakeup {
    std::mutex mutex;  // guards the flags below
    std::condition_variable cv;
    bool stopping = false;
    bool peers_changed = false;
  };

  void run();
  void remap_and_publish();
  void log_transition(const Snapshot& before, const Snapshot& after);

  std::unique_ptr<LocalApi> api_;  // used by the polling thread only
  model::PeerRegistry& peers_;
  std::shared_ptr<SnapshotStore> store_;
  base::Logger& log_;
  const PollerOptions options_;
  WallClock clock_;
  std::shared_ptr<Wakeup> wakeup_;
  std::thread thread_;
};

}  // namespace podpath::tailscale
