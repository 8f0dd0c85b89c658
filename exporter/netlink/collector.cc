#include "netlink/collector.h"

#include <fmt/format.h>

#include "netlink/kernel_peers.h"
#include "netlink/reader.h"

namespace podpath::netlink {

NetlinkCollector::NetlinkCollector(std::shared_ptr<KernelSource> source, CollectorOptions options,
                                   model::PeerRegistry& peers, base::Logger& log, UnixClock now)
    : source_(std::move(source)),
      options_(std::move(options)),
      peers_(peers),
      log_(log),
      now_(std::move(now)) {}

std::shared_ptr<const KernelSnapshot> NetlinkCollector::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

metrics::CollectResult NetlinkCollector::collect() {
  auto fail = [&](std::string why) {
    // The last good series stay, marked stale by success=0 and the age of the
    // last-success timestamp.
    metrics::CollectResult result = metrics::CollectResult::failure(std::move(why));
    std::lock_guard lock(mutex_);
    result.families = last_good_;
    if (latest_) result.last_success_unix_seconds = last_success_;
    return result;
  };

  auto opened = source_->open();
  if (!opened) return fail(opened.error());
  KernelSession& session = **opened;
  KernelRead read = read_state(session);
  if (!read.problems.empty())
    log_.warn_every("netlink-unreadable-messages", std::chrono::minutes(5),
                    "skipped unreadable netlink messages",
                    {{"count", std::to_string(read.problems.size())}, {"first", read.problems[0]}});
  if (!read.ok()) return fail(read.error);

  // Published before the lookups so that peers the kernel just learnt are looked up in
  // this same scrape; the registry republishes only when something changed.
  peers_.set_kernel_peers(kernel_peers(read.snapshot, options_.flannel_devices));
  auto peer_set = peers_.current();
  if (std::string lookup_error = add_peer_routes(session, *peer_set, read.snapshot);
      !lookup_error.empty())
    return fail(lookup_error);

  metrics::CollectResult result;
  result.families = link_families(read.snapshot, options_.devices);
  result.families.push_back(peer_route_family(read.snapshot));
  auto snapshot = std::make_shared<const KernelSnapshot>(std::move(read.snapshot));
  std::lock_guard lock(mutex_);
  latest_ = std::move(snapshot);
  last_good_ = result.families;
  last_success_ = now_();
  return result;
}

}  // namespace podpath::netlink
