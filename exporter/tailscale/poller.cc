#include "tailscale/poller.h"

#include <fmt/format.h>

#include <utility>

namespace podpath::tailscale {

namespace {

constexpr auto kWarnEvery = std::chrono::minutes(5);

double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

Poller::Poller(std::unique_ptr<LocalApi> api, model::PeerRegistry& peers,
               std::shared_ptr<SnapshotStore> store, base::Logger& log, PollerOptions options,
               WallClock clock)
    : api_(std::move(api)),
      peers_(peers),
      store_(std::move(store)),
      log_(log),
      options_(std::move(options)),
      clock_(std::move(clock)),
      wakeup_(std::make_shared<Wakeup>()) {}

Poller::~Poller() {
  stop();
}

void Poller::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(wakeup_->mutex);
    wakeup_->stopping = false;
  }
  std::weak_ptr<Wakeup> weak = wakeup_;
  peers_.subscribe([weak](const std::shared_ptr<const model::PeerSet>&) {
    if (auto wakeup = weak.lock()) {
      std::lock_guard lock(wakeup->mutex);
      wakeup->peers_changed = true;
      wakeup->cv.notify_all();
    }
  });
  thread_ = std::thread([this] { run(); });
}

void Poller::stop() {
  {
    std::lock_guard lock(wakeup_->mutex);
    wakeup_->stopping = true;
    wakeup_->cv.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Poller::poll_once() {
  Fetched fetched;
  fetched.status = api_->get("/localapi/v0/status");
  const bool answered =
      fetched.status.outcome == LocalApiResponse::Outcome::kOk && fetched.status.http_status == 200;
  if (answered) fetched.usermetrics = api_->get("/localapi/v0/usermetrics");
  auto before = store_->latest();
  // The peer set is read after the I/O so the mapping uses the newest one.
  auto after = std::make_shared<const Snapshot>(
      advance(*before, fetched, *peers_.current(), unix_seconds(clock_())));
  store_->publish(after);
  log_transition(*before, *after);
}

void Poller::remap_and_publish() {
  auto before = store_->latest();
  auto peers = peers_.current();
  if (before->peer_generation == peers->generation) return;
  store_->publish(std::make_shared<const Snapshot>(remap(*before, *peers)));
}

void Poller::run() {
  using Steady = std::chrono::steady_clock;
  auto next_poll = Steady::now();
  while (true) {
    bool poll = false;
    bool changed = false;
    {
      std::unique_lock lock(wakeup_->mutex);
      wakeup_->cv.wait_until(lock, next_poll,
                             [&] { return wakeup_->stopping || wakeup_->peers_changed; });
      if (wakeup_->stopping) return;
      changed = std::exchange(wakeup_->peers_changed, false);
      poll = Steady::now() >= next_poll;
    }
    // No lock is held across the LocalAPI call: stop() may wait at most one timeout.
    if (poll) {
      poll_once();
      // Measured from the end of the poll, so a hung tailscaled (up to --tailscale.timeout)
      // never makes polls pile up.
      next_poll = Steady::now() + options_.interval;
    } else if (changed) {
      remap_and_publish();
    }
  }
}

void Poller::log_transition(const Snapshot& before, const Snapshot& after) {
  const base::Fields where{{"socket", options_.socket_path}};
  if (after.availability != before.availability) {
    if (after.availability == Availability::kNotApplicable) {
      log_.info(
          "Tailscale LocalAPI socket not found; the tailscale collector reports nothing "
          "until it appears",
          {{"socket", options_.socket_path},
           {"recheck_every", fmt::format("{}ms", options_.interval.count())}});
    } else if (after.availability == Availability::kAvailable) {
      log_.info("Tailscale LocalAPI socket found", where);
    }
  }
  if (after.stale()) {
    log_.warn_every("tailscale.poll", std::chrono::duration_cast<std::chrono::seconds>(kWarnEvery),
                    "Tailscale LocalAPI poll failed; serving the last good state as stale",
                    {{"socket", options_.socket_path},
                     {"error", after.error},
                     {"last_success", after.last_success_unix_seconds
                                          ? fmt::format("{:.0f}", *after.last_success_unix_seconds)
                                          : "never"}});
  } else if (before.stale() && after.availability == Availability::kAvailable) {
    log_.info("Tailscale LocalAPI answering again", where);
  }
  if (after.status && !after.stale() && !after.status->peer_errors.empty()) {
    const PeerError& first = after.status->peer_errors.front();
    log_.warn_every("tailscale.peer_errors",
                    std::chrono::duration_cast<std::chrono::seconds>(kWarnEvery),
                    "some Tailscale peers could not be read and are left out",
                    {{"count", std::to_string(after.status->peer_errors.size())},
                     {"first_peer", first.key},
                     {"first_error", first.error}});
  }
  // Once per appearance of the socket (or when an upgrade took the endpoint away).
  const bool good = after.availability == Availability::kAvailable && !after.stale();
  if (good && !after.path_counters && (!before.last_success_unix_seconds || before.path_counters)) {
    log_.info("tailscaled offers no usermetrics (before 1.78?); packets by path not reported",
              where);
  }
}

}  // namespace podpath::tailscale
