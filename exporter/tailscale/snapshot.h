// What the Tailscale module knows at one moment, published as an immutable snapshot: the
// collector copies it at scrape time and the path analysis (analysis/) joins it per peer.
// advance() and remap() are the pure steps the poller applies.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/peer.h"
#include "model/tailnet.h"
#include "tailscale/localapi.h"
#include "tailscale/mapping.h"
#include "tailscale/status.h"
#include "tailscale/usermetrics.h"
#include "tailscale/view.h"

namespace podpath::tailscale {

enum class Availability {
  kUnknown,        // not polled yet
  kNotApplicable,  // no LocalAPI socket: Tailscale is not on this node
  kAvailable,      // the socket exists (answers may still fail: see Snapshot::error)
};

struct Snapshot {
  Availability availability = Availability::kUnknown;
  std::optional<Status> status;  // the last good status; kept while polls fail
  Mapping mapping;               // status mapped onto the peer set of peer_generation
  std::uint64_t peer_generation = 0;
  // This node's packets and bytes by path; nullopt when tailscaled offers no usermetrics
  // (older than 1.78: 404) or before the first good answer.
  std::optional<std::vector<PathCounter>> path_counters;
  // Non-empty when the last poll failed: status, mapping and path_counters are then the
  // last good ones (stale), from last_success_unix_seconds.
  std::string error;
  std::optional<double> last_success_unix_seconds;

  bool stale() const { return !error.empty(); }
  // The mapped Tailscale view of one cluster peer, or nullptr when it has none.
  const MappedPeer* find(std::string_view peer, model::Family family) const;
};

// Thread-safe holder of the latest snapshot.
class SnapshotStore final : public View {
 public:
  SnapshotStore() : latest_(std::make_shared<const Snapshot>()) {}
  std::shared_ptr<const Snapshot> latest() const override;
  // Also hands the status' tailnet addresses to `tailnet_sink` when one is set.
  void publish(std::shared_ptr<const Snapshot> next);
  // Where publish() writes the tailnet addresses (ModuleContext::tailnet); set before the
  // poller starts, outlives the store.
  void set_tailnet_sink(model::TailnetAddresses* sink) { tailnet_sink_ = sink; }

 private:
  model::TailnetAddresses* tailnet_sink_ = nullptr;
  mutable std::mutex mutex_;  // guards latest_
  std::shared_ptr<const Snapshot> latest_;
};

// What one poll brought back from the LocalAPI.
struct Fetched {
  LocalApiResponse status;
  // Asked only when the status answered; nullopt otherwise.
  std::optional<LocalApiResponse> usermetrics;
};

// The snapshot after a poll: a socket that never existed makes it not applicable; one that
// answered and is gone, and any other failure, keep the previous data, marked stale with the
// reason; a good answer
// replaces everything. A usermetrics 404 means the feature is absent, not a failure.
Snapshot advance(const Snapshot& previous, const Fetched& fetched, const model::PeerSet& peers,
                 double now_unix_seconds);

// The same snapshot mapped onto a newer peer set (no LocalAPI call).
Snapshot remap(const Snapshot& previous, const model::PeerSet& peers);

}  // namespace podpath::tailscale
