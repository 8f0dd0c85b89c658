#include "prober/module.h"

#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "base/clock.h"
#include "base/file.h"
#include "module/flags.h"
#include "prober/group_aggregates.h"
#include "prober/options.h"
#include "prober/prober.h"

namespace podpath::prober {

namespace {

std::optional<int> read_device_mtu(const std::string& device) {
  auto text = base::read_file(fmt::format("/sys/class/net/{}/mtu", device)).bytes;
  if (!text) return std::nullopt;
  try {
    int mtu = std::stoi(*text);
    if (mtu > 0) return mtu;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// The device's own IPv4 address: flannel gives flannel.1 its subnet's network address.
std::optional<model::Ipv4> read_device_address(const std::string& device) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  ifreq request{};
  strncpy(request.ifr_name, device.c_str(), IFNAMSIZ - 1);
  request.ifr_addr.sa_family = AF_INET;
  int rc = ioctl(fd, SIOCGIFADDR, &request);
  close(fd);
  if (rc != 0) return std::nullopt;
  sockaddr_in address;
  memcpy(&address, &request.ifr_addr, sizeof address);
  return model::Ipv4{ntohl(address.sin_addr.s_addr)};
}

// This node's VTEP as flannel set it up: the device's MAC and address, the VNI from the flag.
std::optional<LocalVtep> read_local_vtep(const std::string& device, std::uint32_t vni,
                                         model::PeerRegistry& registry) {
  auto mac_text = base::read_file(fmt::format("/sys/class/net/{}/address", device)).bytes;
  if (!mac_text) return std::nullopt;
  auto mac = parse_mac(mac_text->substr(0, mac_text->find('\n')));
  if (!mac) return std::nullopt;
  auto address = read_device_address(device);
  if (!address) {
    // No address on the device: this node's pod subnet's network address, as flannel sets.
    auto self = registry.current()->self;
    if (self && self->pod_cidr) address = self->pod_cidr->address;
  }
  if (!address) return std::nullopt;
  return LocalVtep{vni, *mac, *address};
}

// flannel's IPv6 VXLAN device beside flannel.<VNI>: flannel-v6.<VNI> (flannel
// pkg/backend/vxlan/vxlan.go names both from the VNI); nullopt for any other overlay device.
std::optional<std::string> ipv6_overlay_device(const std::string& device) {
  constexpr std::string_view prefix = "flannel.";
  if (!device.starts_with(prefix) || device.size() == prefix.size()) return std::nullopt;
  const std::string vni = device.substr(prefix.size());
  if (vni.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return "flannel-v6." + vni;
}

// The device's own IPv6 address (getifaddrs: the kernel's RTM_GETADDR dump, no text to parse),
// link-local ones skipped: flannel gives flannel-v6.1 its IPv6 subnet's network address.
std::optional<model::IpAddress> read_device_address6(const std::string& device) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<model::IpAddress> found;
  for (ifaddrs* entry = list; entry && !found; entry = entry->ifa_next) {
    if (!entry->ifa_addr || entry->ifa_addr->sa_family != AF_INET6 || !entry->ifa_name ||
        device != entry->ifa_name)
      continue;
    sockaddr_in6 address;
    memcpy(&address, entry->ifa_addr, sizeof address);
    std::array<std::uint8_t, 16> bytes;
    memcpy(bytes.data(), &address.sin6_addr, bytes.size());
    auto ip = model::IpAddress::v6(bytes);
    if (model::classify(ip) != model::AddressScope::kLinkLocal) found = ip;
  }
  freeifaddrs(list);
  return found;
}

// This node's IPv6 VTEP: flannel-v6.<VNI>'s MAC and address, the VNI from the flag.
std::optional<LocalVtep6> read_local_vtep6(const std::string& device, std::uint32_t vni,
                                           model::PeerRegistry& registry) {
  auto mac_text = base::read_file(fmt::format("/sys/class/net/{}/address", device)).bytes;
  if (!mac_text) return std::nullopt;
  auto mac = parse_mac(mac_text->substr(0, mac_text->find('\n')));
  if (!mac) return std::nullopt;
  auto address = read_device_address6(device);
  if (!address) {
    // No address on the device: this node's IPv6 pod subnet's network address, as flannel sets.
    auto self = registry.current()->self;
    if (self && self->pod_cidr_v6) address = self->pod_cidr_v6->address();
  }
  if (!address) return std::nullopt;
  return LocalVtep6{vni, *mac, *address};
}

class ProberCollector final : public metrics::Collector {
 public:
  explicit ProberCollector(std::shared_ptr<Prober> prober) : prober_(std::move(prober)) {}
  std::string name() const override { return "prober"; }
  metrics::CollectResult collect() override {
    auto snapshot = prober_->snapshot();
    metrics::CollectResult result;
    result.families = to_families(*snapshot);
    // (the scraper never runs one collector's collect() twice at once: no lock needed)
    groups_.update(snapshot);
    for (auto& family : groups_.families()) result.families.push_back(std::move(family));
    if (snapshot->published_unix_seconds > 0)
      result.last_success_unix_seconds = snapshot->published_unix_seconds;
    return result;
  }

 private:
  std::shared_ptr<Prober> prober_;
  GroupAggregates groups_;
};

struct Sockets {
  std::unique_ptr<IcmpSocket> icmp;
  std::unique_ptr<Icmp6Socket> icmp6;  // only where the kernel has IPv6 and lets us open it
  std::unique_ptr<UdpSocket> udp;      // only when exposure probes run
};

std::vector<double> buckets_from_flag(const std::string& text) {
  if (text.empty()) return metrics::exponential_buckets(50e-6, 2, 20);
  auto bounds = parse_buckets(text);
  if (!bounds)
    throw module::ConfigError(
        fmt::format("--prober.buckets: {}; give increasing seconds, e.g. 0.0001,0.001,0.01,0.1,1",
                    bounds.error()));
  return *bounds;
}

// The flags as the loop's configuration; a ConfigError names the flag and the fix.
ProberConfig config_from_flags(const ProberFlags& flags, const module::ModuleContext& context) {
  ProberConfig config;
  config.node_name = context.node_name;
  // The ranges are checked as the flags are parsed (add_flags).
  config.interval = flags.interval;
  config.timeout = flags.timeout;
  config.pmtu_interval = flags.pmtu_interval;
  config.first_run_spread = context.first_results_within;
  config.exposure_interval = flags.exposure ? flags.exposure_interval : std::chrono::nanoseconds(0);
  config.buckets = buckets_from_flag(flags.buckets);
  config.max_peers = flags.max_peers;
  if (flags.vni < 0 || flags.vni > 0xffffff)
    throw module::ConfigError("--prober.vni must be in 0..16777215 (flannel's default is 1)");
  config.vxlan_port = flags.vxlan_port;
  return config;
}

// Issue #17's budget: at most this many echo requests per second leave one node. Each probed
// peer costs two per --prober.interval (overlay and underlay): the default 100 peers at 1s.
constexpr double kProbesPerSecondBudget = 200;

// Says once at start when the flags allow more than the budget, so that a node sending more is
// never a surprise.
void report_budget(const ProberFlags& flags, base::Logger& log) {
  if (flags.max_peers == 0) {
    log.warn(
        "prober: --prober.max-peers=0 probes every peer: probes per second grow with the "
        "cluster, beyond the budget of 200 probes/s per node (and every probed peer keeps "
        "its request and response series, whatever --metrics.max-series says)",
        {{"budget_probes_per_second", fmt::format("{:g}", kProbesPerSecondBudget)}});
    return;
  }
  const double interval = std::chrono::duration<double>(flags.interval).count();
  const double rate = 2.0 * static_cast<double>(flags.max_peers) / interval;
  if (rate > kProbesPerSecondBudget)
    log.warn(
        "prober: --prober.max-peers and --prober.interval allow more than the budget of 200 "
        "probes/s per node",
        {{"max_peers", std::to_string(flags.max_peers)},
         {"interval_seconds", fmt::format("{:g}", interval)},
         {"probes_per_second", fmt::format("{:g}", rate)}});
}

// --prober.static-targets, when given.
std::optional<std::vector<model::Peer>> read_static_targets(const std::string& path) {
  if (path.empty()) return std::nullopt;
  auto text = base::read_file(path).bytes;
  if (!text)
    throw module::ConfigError(fmt::format("--prober.static-targets: cannot read \"{}\"", path));
  auto peers = parse_static_targets(*text);
  if (!peers)
    throw module::ConfigError(fmt::format("--prober.static-targets: {}: {}", path, peers.error()));
  return std::move(*peers);
}

// A random source seeded by the kernel: restarts and neighbours never share identifiers,
// sequences or cookies.
std::function<std::uint64_t()> seeded_random() {
  std::random_device device;
  std::mt19937_64 seed_source((std::uint64_t{device()} << 32) | device());
  return [seed_source]() mutable { return seed_source(); };
}

// `random` draws the raw socket's identifier; the loop gets the same source afterwards.
Sockets open_sockets(const ProberConfig& config, const std::function<std::uint64_t()>& random,
                     base::Logger& log) {
  Sockets sockets;
  auto icmp = IcmpSocket::open(static_cast<std::uint16_t>(random()));
  if (!icmp) throw module::ConfigError(fmt::format("prober: {}", icmp.error()));
  sockets.icmp = std::move(*icmp);
  if (config.exposure_interval.count() > 0) {
    auto udp = UdpSocket::open();
    if (!udp) throw module::ConfigError(fmt::format("prober: {}", udp.error()));
    sockets.udp = std::move(*udp);
  }
  log.info("prober socket",
           {{"mode", std::string(to_string(sockets.icmp->mode()))},
            {"identifier", std::to_string(sockets.icmp->identifier())},
            {"timestamps", sockets.icmp->kernel_timestamps() ? "kernel" : "user"}});
  // IPv6 targets need the ICMPv6 socket; without it (a kernel booted with ipv6.disable=1, or
  // no permission) the IPv4 probes run as before and IPv6 targets are skipped with a warning.
  auto icmp6 = Icmp6Socket::open(static_cast<std::uint16_t>(random()));
  if (icmp6) {
    sockets.icmp6 = std::move(*icmp6);
    log.info("prober socket",
             {{"family", "ipv6"},
              {"mode", std::string(to_string(sockets.icmp6->mode()))},
              {"identifier", std::to_string(sockets.icmp6->identifier())},
              {"timestamps", sockets.icmp6->kernel_timestamps() ? "kernel" : "user"}});
  } else {
    log.warn("prober: no ICMPv6 socket; IPv6 targets are not probed", {{"err", icmp6.error()}});
  }
  return sockets;
}

// What the loop reads from outside: the overlay device, this node's VTEP, the random source
// and the wall clock (the monotonic clock is the loop's default, the kernel's).
ProberEnvironment environment(const ProberFlags& flags, module::ModuleContext& context,
                              std::function<std::uint64_t()> random) {
  ProberEnvironment env;
  env.log = &context.log;
  const std::string device_name = context.overlay_device;
  // host-gw, extension (k3s --vpn-auth) and the other routed backends have no flannel device:
  // the largest pod packet is then the pod bridge's MTU, which flannel's CNI plugin sets to
  // FLANNEL_MTU (k3s names the bridge cni0).
  env.overlay_mtu = [device_name] {
    auto mtu = read_device_mtu(device_name);
    return mtu ? mtu : read_device_mtu("cni0");
  };
  const std::uint32_t vni = static_cast<std::uint32_t>(flags.vni);
  model::PeerRegistry* registry = &context.peers;
  env.local_vtep = [device_name, vni, registry] {
    return read_local_vtep(device_name, vni, *registry);
  };
  if (auto device6 = ipv6_overlay_device(device_name))
    env.local_vtep6 = [device6 = *device6, vni, registry] {
      return read_local_vtep6(device6, vni, *registry);
    };
  env.random = std::move(random);
  env.unix_now = base::unix_now;
  return env;
}

}  // namespace

ProberModule::ProberModule() = default;
ProberModule::~ProberModule() = default;

std::string ProberModule::description() const {
  return "ICMP probes of every peer's overlay and underlay address, path MTU and VXLAN "
         "exposure";
}

void ProberModule::add_flags(CLI::App& app) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  module::add_duration_flag(app, "--prober.interval", flags_.interval,
                            "Time between two probes of one target.", {milliseconds(10), hours(1)});
  // The echo sequence space must outlast the timeout.
  module::add_duration_flag(app, "--prober.timeout", flags_.timeout,
                            "How long a probe waits for its reply before it counts as lost.",
                            {milliseconds(1), seconds(10)});
  app.add_option("--prober.buckets", flags_.buckets,
                 "RTT histogram bucket bounds in seconds, comma-separated (default: 50us "
                 "doubling 20 times, as smokeping_prober).");
  app.add_option("--prober.max-peers", flags_.max_peers,
                 "Probe at most this many peers (2 probes each per --prober.interval; 100 at 1s "
                 "is the 200 probes/s budget). Which ones: a probe graph every node computes "
                 "alike, that keeps most of this node's group, probes every pair of groups and "
                 "every node from at least 3 others. Every node should have the same value. "
                 "0 probes all.")
      ->capture_default_str();
  module::add_duration_flag(app, "--prober.pmtu-interval", flags_.pmtu_interval,
                            "Time between path MTU searches per peer (0 disables).",
                            {seconds(0), hours(24)});
  app.add_flag("--prober.exposure,!--no-prober.exposure", flags_.exposure,
               "Check once per --prober.exposure-interval whether each peer's VXLAN port "
               "accepts frames sent to its public addresses (default: on).");
  module::add_duration_flag(app, "--prober.exposure-interval", flags_.exposure_interval,
                            "Time between two VXLAN exposure probes of one public address (0 "
                            "disables).",
                            {seconds(0), hours(24)});
  app.add_option("--prober.vni", flags_.vni,
                 "VXLAN network identifier of the overlay (flannel's "
                 "VNI).")
      ->capture_default_str();
  app.add_option("--prober.vxlan-port", flags_.vxlan_port, "UDP port peers receive VXLAN on.")
      ->capture_default_str();
  app.add_option("--prober.static-targets", flags_.static_targets,
                 "FOR BENCHMARKS AND TESTS ONLY: probe the targets in this file "
                 "(\"<peer> <overlay|underlay> <IPv4> [group]\" per line) instead of the "
                 "cluster's peers.");
}

namespace {

// The static targets once, or the cluster's peers now and on every change.
void feed_peers(const std::shared_ptr<Prober>& prober, module::ModuleContext& context,
                std::optional<std::vector<model::Peer>> static_peers,
                const std::string& static_targets) {
  if (static_peers) {
    auto set = std::make_shared<model::PeerSet>();
    set->self_name = context.node_name;
    set->peers = std::move(*static_peers);
    prober->set_peers(set);
    context.log.info("prober probes static targets (benchmark/test mode)",
                     {{"file", static_targets}, {"peers", std::to_string(set->peers.size())}});
    return;
  }
  std::weak_ptr<Prober> weak = prober;
  context.peers.subscribe([weak](std::shared_ptr<const model::PeerSet> peers) {
    if (auto prober = weak.lock()) prober->set_peers(std::move(peers));
  });
  prober->set_peers(context.peers.current());
}

}  // namespace

std::vector<std::shared_ptr<metrics::Collector>> ProberModule::start(
    module::ModuleContext& context) {
  ProberConfig config = config_from_flags(flags_, context);
  report_budget(flags_, context.log);
  std::optional<std::vector<model::Peer>> static_peers = read_static_targets(flags_.static_targets);
  std::function<std::uint64_t()> random = seeded_random();
  Sockets sockets = open_sockets(config, random, context.log);
  prober_ = std::make_shared<Prober>(config, environment(flags_, context, random),
                                     std::move(sockets.icmp), std::move(sockets.icmp6),
                                     std::move(sockets.udp));
  feed_peers(prober_, context, std::move(static_peers), flags_.static_targets);
  prober_->start();
  return {std::make_shared<ProberCollector>(prober_)};
}

void ProberModule::stop() {
  if (prober_) prober_->stop();
}

std::shared_ptr<const ResultsView> ProberModule::results() const {
  return prober_;
}

}  // namespace podpath::prober
