#include "wireguard/collector.h"

#include <fmt/format.h>

#include "model/peer_labels.h"

namespace podpath::wireguard {

WireguardCollector::WireguardCollector(std::unique_ptr<DeviceReader> reader,
                                       std::vector<std::string> devices, model::PeerRegistry& peers,
                                       base::Logger& log, Clock now)
    : reader_(std::move(reader)),
      devices_(std::move(devices)),
      peers_(peers),
      log_(log),
      now_(std::move(now)) {}

std::shared_ptr<const Snapshot> WireguardCollector::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

metrics::CollectResult WireguardCollector::collect() {
  std::vector<std::pair<Device, Interface>> found;
  std::vector<std::string> errors;
  std::vector<std::string> problems;
  for (const auto& name : devices_) {
    ReadOutcome outcome = reader_->read(name);
    switch (outcome.kind) {
      case ReadOutcome::Kind::kAbsent:
        break;
      case ReadOutcome::Kind::kFailed:
        errors.push_back(std::move(outcome.error));
        break;
      case ReadOutcome::Kind::kRead:
        for (auto& p : outcome.read.problems) problems.push_back(fmt::format("{}: {}", name, p));
        found.emplace_back(std::move(outcome.read.device), outcome.interface);
        break;
    }
  }
  if (!problems.empty())
    log_.warn_every("wireguard-unreadable-parts", std::chrono::minutes(5),
                    "skipped unreadable parts of a WireGuard device's configuration",
                    {{"count", std::to_string(problems.size())}, {"first", problems[0]}});
  if (!errors.empty()) {
    // The last good series stay, marked stale by success=0 and the last-success timestamp.
    auto result = metrics::CollectResult::failure(fmt::format("{}", fmt::join(errors, "; ")));
    std::lock_guard lock(mutex_);
    result.families = last_good_;
    if (latest_) result.last_success_unix_seconds = last_success_;
    return result;
  }
  if (found.empty()) {
    // Not the wireguard backend: nothing to say, and no failure.
    if (!said_absent_)
      log_.info("no WireGuard device on this node; the wireguard collector exports nothing",
                {{"devices", fmt::format("{}", fmt::join(devices_, ","))}});
    said_absent_ = true;
  }
  const auto now = now_();
  auto previous = latest();
  auto snapshot = std::make_shared<const Snapshot>(
      map_devices(std::move(found), *peers_.current(), previous.get(), now));
  metrics::CollectResult result;
  result.families = to_families(*snapshot);
  std::lock_guard lock(mutex_);
  latest_ = std::move(snapshot);
  last_good_ = result.families;
  last_success_ = std::chrono::duration<double>(now.time_since_epoch()).count();
  return result;
}

std::vector<metrics::MetricFamily> to_families(const Snapshot& snapshot) {
  using metrics::MetricFamily;
  using metrics::MetricType;
  MetricFamily device("podpath_wireguard_device_info",
                      "A WireGuard device of this node and the interface it was read through "
                      "(netlink: the kernel module; uapi: a userspace daemon's socket); value is "
                      "1.",
                      MetricType::kInfo);
  MetricFamily peers("podpath_wireguard_device_peers",
                     "WireGuard peers of the device, by whether a cluster peer maps to them.",
                     MetricType::kGauge);
  MetricFamily age("podpath_wireguard_peer_last_handshake_age_seconds",
                   "Seconds from the latest WireGuard handshake with the cluster peer to this "
                   "read; absent while there has been none (see "
                   "podpath_wireguard_peer_never_handshaked). Above 180 s (REJECT_AFTER_TIME) "
                   "the session's keys are no longer accepted.",
                   MetricType::kGauge);
  MetricFamily never("podpath_wireguard_peer_never_handshaked",
                     "1 when no WireGuard handshake with the cluster peer has completed since "
                     "the device got the peer.",
                     MetricType::kGauge);
  MetricFamily keepalive("podpath_wireguard_peer_persistent_keepalive_seconds",
                         "The peer's persistent keepalive interval; 0 when off.",
                         MetricType::kGauge);
  MetricFamily rx("podpath_wireguard_peer_rx_bytes_total",
                  "Bytes received from the cluster peer on the WireGuard device (resets when "
                  "the peer is re-added).",
                  MetricType::kCounter);
  MetricFamily tx("podpath_wireguard_peer_tx_bytes_total",
                  "Bytes sent to the cluster peer on the WireGuard device, handshake attempts "
                  "included (resets when the peer is re-added).",
                  MetricType::kCounter);
  for (const auto& d : snapshot.devices) {
    device.add({{"device", d.device.name},
                {"interface", std::string(to_string(d.interface))},
                {"listen_port", std::to_string(d.device.listen_port)}},
               1);
    const double mapped = static_cast<double>(d.device.peers.size() - d.unmapped_peers);
    peers.add({{"device", d.device.name}, {"mapped", "true"}}, mapped);
    peers.add({{"device", d.device.name}, {"mapped", "false"}},
              static_cast<double>(d.unmapped_peers));
  }
  for (const auto& p : snapshot.peers) {
    const auto labels = model::PeerLabels{p.peer, p.group, p.same_group, p.family}.pairs(
        {{"device", p.device}, {"match", std::string(to_string(p.match))}});
    const auto handshake_age = p.handshake_age_seconds(snapshot.read_at);
    if (handshake_age) age.add(labels, *handshake_age);
    never.add(labels, handshake_age ? 0 : 1);
    keepalive.add(labels, p.wireguard.persistent_keepalive_seconds);
    rx.add(labels, static_cast<double>(p.wireguard.rx_bytes));
    tx.add(labels, static_cast<double>(p.wireguard.tx_bytes));
  }
  std::vector<MetricFamily> out;
  for (auto* family : {&device, &peers, &age, &never, &keepalive, &rx, &tx})
    if (!family->metrics.empty()) out.push_back(std::move(*family));
  return out;
}

}  // namespace podpath::wireguard
