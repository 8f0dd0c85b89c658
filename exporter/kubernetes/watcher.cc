#include "kubernetes/watcher.h"

#include <fmt/format.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace podpath::kubernetes {

namespace {
constexpr const char* kEventTypes[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
constexpr ApiError kErrors[] = {ApiError::kConnect,      ApiError::kTls,  ApiError::kTimeout,
                                ApiError::kUnauthorized, ApiError::kHttp, ApiError::kDecode,
                                ApiError::kOther};
}  // namespace

Watcher::Watcher(NodeApi& api, WatcherOptions options, Publish publish, base::Logger& log,
                 std::function<double()> unix_now, std::function<double()> random01, Sleep sleep,
                 Monotonic monotonic)
    : api_(api),
      options_(std::move(options)),
      publish_(std::move(publish)),
      log_(log),
      unix_now_(std::move(unix_now)),
      random01_(std::move(random01)),
      sleep_(std::move(sleep)),
      monotonic_(monotonic ? std::move(monotonic)
                           : [] { return std::chrono::steady_clock::now(); }),
      backoff_(options_.backoff_initial, options_.backoff_max) {
  for (const char* type : kEventTypes) stats_.events[type] = 0;
  for (ApiError error : kErrors) stats_.errors[std::string(to_string(error))] = 0;
  if (!sleep_) {
    sleep_ = [this](std::chrono::milliseconds delay) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, delay, [this] { return stopping_; });
      return !stopping_;
    };
  }
}

Watcher::~Watcher() {
  stop();
}

void Watcher::start() {
  loop_thread_ = std::thread([this] { run(); });
  publish_thread_ = std::thread([this] { publish_loop(); });
}

void Watcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  api_.interrupt();
  if (loop_thread_.joinable()) loop_thread_.join();
  if (publish_thread_.joinable()) publish_thread_.join();
}

WatcherSnapshot Watcher::snapshot() const {
  std::lock_guard lock(mutex_);
  WatcherSnapshot out = stats_;
  out.node_count = nodes_.size();
  if (auto it = nodes_.find(options_.self_name); it != nodes_.end()) out.self = it->second;
  out.annotation_errors = error_fields_;
  // While the watch stream is open the view is current as of now.
  const double now = unix_now_();
  if (stats_.synced && stats_.healthy && watching_) {
    out.last_success_unix = now;
  } else if (last_good_unix_ > 0) {
    out.last_success_unix = last_good_unix_;
  }
  return out;
}

void Watcher::mark_dirty_locked() {
  dirty_ = true;
  wake_.notify_all();
}

void Watcher::publish_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || dirty_; });
    if (stopping_) return;
    // Let a burst of events settle into one publish, except a deletion: a node that left
    // must be gone from the per-peer series by the next scrape. Events arriving while a
    // publish runs are coalesced into the next one, so a burst of deletions costs at most
    // one publish at a time.
    wake_.wait_for(lock, options_.publish_delay, [this] { return stopping_ || urgent_; });
    if (stopping_) return;
    dirty_ = false;
    urgent_ = false;
    std::vector<model::ClusterNode> nodes;
    nodes.reserve(nodes_.size());
    for (const auto& [name, node] : nodes_) nodes.push_back(node);
    lock.unlock();
    publish_(std::move(nodes));
#ifdef __GLIBC__
    // A publish copies the node list and the registry builds a new PeerSet while the old
    // one is alive: megabytes at 5,000 nodes, freed in whichever malloc arena the
    // threads used. Hand the free pages back so resident memory stays at what is kept.
    malloc_trim(0);
#endif
    lock.lock();
  }
}

void Watcher::record_error(const ApiResult& result, bool unhealthy) {
  {
    std::lock_guard lock(mutex_);
    ++stats_.errors[std::string(to_string(result.error))];
    if (unhealthy) stats_.healthy = false;
    stats_.last_error = result.message;
  }
  log_.warn_every("kubernetes-api", std::chrono::seconds(60), "Kubernetes API request failed",
                  {{"reason", std::string(to_string(result.error))}, {"err", result.message}});
}

void Watcher::warn_if_unreadable(const ParsedNode& parsed) {
  if (parsed.error_field.empty()) return;
  log_.warn_every("annotation:" + parsed.node.name, std::chrono::seconds(600),
                  "node annotations cannot be read",
                  {{"node", parsed.node.name}, {"err", parsed.node.annotation_error}});
}

bool Watcher::sleep_backoff() {
  auto delay = backoff_.next(random01_());
  log_.debug("retrying the Kubernetes API", {{"in", fmt::format("{}ms", delay.count())}});
  return sleep_(delay);
}

bool Watcher::list() {
  std::map<std::string, model::ClusterNode> fresh;
  std::map<std::string, std::string> fresh_errors;
  std::string version;
  ApiResult result = api_.list_nodes(
      [&](ParsedNode&& parsed) {
        if (!parsed.error_field.empty()) fresh_errors[parsed.node.name] = parsed.error_field;
        warn_if_unreadable(parsed);
        std::string name = parsed.node.name;
        fresh.insert_or_assign(std::move(name), std::move(parsed.node));
      },
      version);
  if (result.kind == ApiResult::Kind::kStopped) return false;
  if (result.kind != ApiResult::Kind::kOk) {
    if (result.kind == ApiResult::Kind::kGone) {
      // An expired continue token: the next list starts from scratch.
      result.error = ApiError::kHttp;
      result.message = "list continuation expired (410): " + result.message;
    }
    record_error(result, true);
    return false;
  }
  resource_version_ = version;
  backoff_.reset();
  bool self_missing = false;
  bool recovered = false;
  {
    std::lock_guard lock(mutex_);
    recovered = !stats_.healthy && !stats_.last_error.empty();
    nodes_ = std::move(fresh);
    error_fields_ = std::move(fresh_errors);
    stats_.synced = true;
    stats_.healthy = true;
    stats_.last_error.clear();
    last_good_unix_ = unix_now_();
    self_missing = !nodes_.contains(options_.self_name) && !self_missing_logged_;
    if (self_missing) self_missing_logged_ = true;
    urgent_ = true;  // a re-list may drop nodes
    mark_dirty_locked();
  }
  if (recovered) log_.info("Kubernetes API reachable again");
  log_.info("listed nodes",
            {{"nodes", std::to_string(snapshot().node_count)}, {"resource_version", version}});
  if (self_missing)
    log_.warn("this node is not in the API's node list; set --node-name to its Kubernetes name",
              {{"node", options_.self_name}});
  return true;
}

void Watcher::apply(WatchEvent&& event) {
  std::lock_guard lock(mutex_);
  ++stats_.events[event.type];
  stats_.last_event_unix = unix_now_();
  last_good_unix_ = *stats_.last_event_unix;
  if (!event.resource_version.empty()) resource_version_ = event.resource_version;
  const std::string& name = event.node.node.name;
  if (event.type == "ADDED" || event.type == "MODIFIED") {
    if (event.node.error_field.empty()) {
      error_fields_.erase(name);
    } else {
      error_fields_[name] = event.node.error_field;
    }
    // kubelet writes every node's status every few minutes (nodeStatusReportFrequency, 5m)
    // and on every condition change: at 5,000 nodes ~17 MODIFIED events a second, nearly all
    // of them changing only heartbeats that podpath does not keep. Publishing copies and
    // compares the whole node list, so an event that changes nothing kept publishes nothing.
    auto kept = nodes_.find(name);
    if (kept != nodes_.end() && kept->second == event.node.node) return;
    nodes_.insert_or_assign(name, std::move(event.node.node));
    mark_dirty_locked();
  } else if (event.type == "DELETED") {
    nodes_.erase(name);
    error_fields_.erase(name);
    urgent_ = true;
    mark_dirty_locked();
  }
}

// What one watch saw, for deciding how to go on when it ends.
struct Watcher::WatchRound {
  std::chrono::steady_clock::time_point started;
  std::optional<std::chrono::steady_clock::time_point> opened_at;
  bool got_event = false;
  bool gone = false;      // an ERROR event said 410
  ApiResult error_event;  // any other ERROR event
};

void Watcher::watch() {
  const int timeout = next_watch_timeout();
  WatchRound round;
  round.started = monotonic_();
  ApiResult result = api_.watch_nodes(
      resource_version_, timeout, [&] { on_watch_opened(round); },
      [&](WatchEvent&& event) { return on_watch_event(std::move(event), round); });
  {
    std::lock_guard lock(mutex_);
    if (watching_) last_good_unix_ = unix_now_();
    watching_ = false;
  }
  if (result.kind == ApiResult::Kind::kStopped) return;
  after_watch(std::move(result), round);
}

int Watcher::next_watch_timeout() {
  // client-go's reflector: timeoutSeconds random in [T, 2T).
  const auto base = options_.watch_timeout.count();
  return static_cast<int>(base + static_cast<long long>(random01_() * base));
}

void Watcher::on_watch_opened(WatchRound& round) {
  round.opened_at = monotonic_();
  bool recovered = false;
  {
    std::lock_guard lock(mutex_);
    recovered = !stats_.healthy;
    watching_ = true;
    stats_.healthy = true;
    stats_.last_error.clear();
    last_good_unix_ = unix_now_();
  }
  if (recovered) log_.info("Kubernetes API reachable again");
}

bool Watcher::on_watch_event(WatchEvent&& event, WatchRound& round) {
  round.got_event = true;
  if (event.type == "ERROR") {
    on_watch_error(event.status, round);
    return false;
  }
  if (event.type == "ADDED" || event.type == "MODIFIED") warn_if_unreadable(event.node);
  apply(std::move(event));
  return true;
}

void Watcher::on_watch_error(const ApiStatus& status, WatchRound& round) {
  {
    std::lock_guard lock(mutex_);
    ++stats_.events["ERROR"];
    stats_.last_event_unix = unix_now_();
  }
  // The apiserver reports a too-old resourceVersion as an ERROR event, code 410.
  if (status.code == 410) {
    round.gone = true;
    return;
  }
  round.error_event = ApiResult::failed(
      ApiError::kHttp,
      fmt::format("watch ERROR event {} {}: {}", status.code, status.reason, status.message), true);
}

void Watcher::after_watch(ApiResult result, const WatchRound& round) {
  if (round.gone || result.kind == ApiResult::Kind::kGone) {
    log_.info("watch resourceVersion expired; listing again",
              {{"resource_version", resource_version_}});
    std::lock_guard lock(mutex_);
    ++stats_.relists;
    resource_version_.clear();
    return;
  }
  if (round.error_event.kind == ApiResult::Kind::kError) result = round.error_event;
  if (result.kind == ApiResult::Kind::kError) {
    // A stream that worked (an event, or open for a second) means the API was back: this
    // cut is a new fault and is retried soon. Otherwise the delays an outage raised would
    // stay raised until the next event, a bookmark up to a minute later.
    if (round.got_event ||
        (round.opened_at && monotonic_() - *round.opened_at >= std::chrono::seconds(1)))
      backoff_.reset();
    // A watch the server cut (reset, timeout) is part of a watch's life and resumes; one
    // whose stream cannot be read is the API failing, however often it accepts the watch.
    record_error(result, !result.established || result.error == ApiError::kDecode);
    sleep_backoff();
    return;
  }
  // A clean end (timeoutSeconds) resumes at once. One that comes back immediately and
  // empty, again and again, must not spin: treat a sub-second empty watch like an error.
  if (!round.got_event && monotonic_() - round.started < std::chrono::seconds(1)) {
    sleep_backoff();
    return;
  }
  backoff_.reset();
}

void Watcher::run() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (resource_version_.empty()) {
      if (!list() && !sleep_backoff()) return;
      continue;
    }
    watch();
  }
}

}  // namespace podpath::kubernetes
