#include "tailscale/snapshot.h"

#include <fmt/format.h>

#include <algorithm>

namespace podpath::tailscale {

const MappedPeer* Snapshot::find(std::string_view peer, model::Family family) const {
  auto it =
      std::lower_bound(mapping.peers.begin(), mapping.peers.end(), std::pair(peer, family),
                       [](const MappedPeer& m, const auto& key) {
                         return std::pair<std::string_view, model::Family>(m.peer, m.family) < key;
                       });
  if (it == mapping.peers.end() || it->peer != peer || it->family != family) return nullptr;
  return &*it;
}

std::shared_ptr<const Snapshot> SnapshotStore::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

void SnapshotStore::publish(std::shared_ptr<const Snapshot> next) {
  if (tailnet_sink_ != nullptr)
    tailnet_sink_->publish(next->status ? tailnet_addresses(*next->status)
                                        : std::vector<model::Ipv4>{});
  std::lock_guard lock(mutex_);
  latest_ = std::move(next);
}

namespace {

// The body of a 200 answer, or why there is none.
std::optional<std::string> http_error(const LocalApiResponse& response, std::string_view what) {
  if (response.outcome != LocalApiResponse::Outcome::kOk)
    return fmt::format("{}: {}", what, response.error);
  if (response.http_status != 200) {
    // tailscaled answers errors as text; a little of it says why (e.g. 403 "invalid
    // localapi request").
    std::string excerpt = response.body.substr(0, 120);
    std::replace(excerpt.begin(), excerpt.end(), '\n', ' ');
    return fmt::format("{}: HTTP {}: {}", what, response.http_status, excerpt);
  }
  return std::nullopt;
}

}  // namespace

Snapshot advance(const Snapshot& previous, const Fetched& fetched, const model::PeerSet& peers,
                 double now_unix_seconds) {
  if (fetched.status.outcome == LocalApiResponse::Outcome::kNoSocket) {
    // Never seen: Tailscale is not on this node. Seen and then gone: tailscaled stopped
    // or crashed, which pods riding tailscale0 feel at once, so it is a failure that keeps
    // the last good state (stale) until the socket answers again. A node that really
    // dropped Tailscale needs an exporter restart to forget it.
    if (previous.availability != Availability::kAvailable) {
      Snapshot next;
      next.availability = Availability::kNotApplicable;
      return next;
    }
    Snapshot next = previous;
    next.error = fmt::format("LocalAPI socket gone after it answered ({}); is tailscaled running?",
                             fetched.status.error);
    return next;
  }
  Snapshot next = previous;
  next.availability = Availability::kAvailable;
  if (auto error = http_error(fetched.status, "status")) {
    next.error = *error;
    return next;
  }
  auto parsed = parse_status(fetched.status.body);
  if (!parsed) {
    next.error = fmt::format("status: {}", parsed.error());
    return next;
  }

  // usermetrics only adds to a good status: parse it before committing anything, so a
  // failure leaves the whole snapshot consistently stale.
  std::optional<std::vector<PathCounter>> counters = previous.path_counters;
  std::string usermetrics_error;
  if (fetched.usermetrics) {
    const LocalApiResponse& um = *fetched.usermetrics;
    if (um.outcome == LocalApiResponse::Outcome::kOk && um.http_status == 404) {
      counters.reset();  // tailscaled older than 1.78, or the endpoint disabled
    } else if (auto error = http_error(um, "usermetrics")) {
      usermetrics_error = *error;
    } else {
      UserMetricsParse parsed_metrics = parse_usermetrics(um.body);
      if (!parsed_metrics.error.empty())
        usermetrics_error = fmt::format("usermetrics: {}", parsed_metrics.error);
      else
        counters = std::move(parsed_metrics.counters);
    }
  }
  if (!usermetrics_error.empty()) {
    next.error = usermetrics_error;
    return next;
  }

  next.status = std::move(*parsed);
  next.mapping = map_peers(peers, *next.status);
  next.peer_generation = peers.generation;
  next.path_counters = std::move(counters);
  next.error.clear();
  next.last_success_unix_seconds = now_unix_seconds;
  return next;
}

Snapshot remap(const Snapshot& previous, const model::PeerSet& peers) {
  Snapshot next = previous;
  next.peer_generation = peers.generation;
  if (next.status) next.mapping = map_peers(peers, *next.status);
  return next;
}

}  // namespace podpath::tailscale
