// The probe loop turn by turn, as an ordinary user: a fake monotonic clock the test moves, and
// sockets in memory (fake_channels.h) that record what the loop sent and hand it the replies,
// ICMP errors and TX timestamps the test queues. Each turn is what the prober's thread runs
// when its timer fires or its socket becomes readable; Harness::advance_to() jumps from one
// timer expiry to the next, as the thread sleeps.
#include "prober/loop.h"

#include <errno.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "fake_channels.h"
#include "metrics/histogram.h"
#include "prober/packet.h"

namespace podpath::prober {
namespace {

using namespace std::chrono_literals;
using testing::FakeIcmp;
using testing::FakeUdp;
using testing::SentPacket;

constexpr std::int64_t ns(std::chrono::nanoseconds d) {
  return d.count();
}

model::Ipv4 ip(const char* text) {
  return *model::Ipv4::parse(text);
}

model::Peer peer(const std::string& name, const char* overlay, const char* underlay = nullptr) {
  model::Peer p;
  p.name = name;
  if (overlay) p.overlay_address = ip(overlay);
  if (underlay) p.vtep_address = ip(underlay);
  return p;
}

std::shared_ptr<model::PeerSet> peer_set(std::vector<model::Peer> peers) {
  auto set = std::make_shared<model::PeerSet>();
  set->self_name = "test-node";
  set->peers = std::move(peers);
  return set;
}

class Harness {
 public:
  Harness() {
    config.node_name = "test-node";
    config.interval = 1s;
    config.timeout = 300ms;
    config.pmtu_interval = 0ns;
    config.exposure_interval = 0ns;
    config.publish_interval = 0ns;  // every turn that changed something publishes
    config.buckets = metrics::exponential_buckets(50e-6, 2, 20);
    env.random = [] { return std::uint64_t{42}; };
    env.monotonic_ns = [this] { return now; };
  }
  Harness(const Harness&) = delete;  // the clock and the fake socket point into it
  Harness& operator=(const Harness&) = delete;

  // Builds the loop from `config` and `env` and gives it its first peers.
  void start(std::shared_ptr<model::PeerSet> peers, bool with_udp = false) {
    loop = std::make_unique<ProbeLoop>(config, env, icmp, with_udp ? &udp : nullptr,
                                       [this](std::shared_ptr<const Snapshot> snapshot) {
                                         published = std::move(snapshot);
                                         ++publishes;
                                       });
    set_peers(std::move(peers));
  }
  void set_peers(std::shared_ptr<model::PeerSet> peers) { next = loop->turn(peers.get()); }
  // A turn now, as when the socket becomes readable.
  void turn() { next = loop->turn(nullptr); }
  // A turn now with only the queues `ready` names seen readable.
  void turn(Ready ready) { next = loop->turn(nullptr, ready); }
  // Every turn the loop asks for up to `t`, each at its time, then one at `t`.
  void advance_to(std::int64_t t) {
    while (next && *next <= t) {
      now = *next;
      turn();
    }
    now = t;
    turn();
  }
  void advance(std::chrono::nanoseconds d) { advance_to(now + ns(d)); }
  // Turns at the times the loop asks for until it sends its next ICMP packet.
  std::optional<SentPacket> next_send() {
    const std::size_t before = icmp.sent.size();
    for (int i = 0; i < 1000 && icmp.sent.size() == before && next; ++i) {
      now = *next;
      turn();
    }
    if (icmp.sent.size() == before) return std::nullopt;
    return icmp.sent[before];
  }
  // Like advance_to(), but after each turn `network` sees every packet sent since and may
  // queue answers; queued answers are read at once, as the socket wakes the thread.
  void run(std::int64_t until, const std::function<void(const SentPacket&)>& network) {
    std::size_t seen = 0;
    while (now < until) {
      const std::size_t queued = icmp.sent.size() - seen;
      for (; seen < icmp.sent.size(); ++seen) network(icmp.sent[seen]);
      if (queued > 0) {
        turn();
        continue;
      }
      if (!next || *next > until) break;
      now = *next;
      turn();
    }
  }

  const TargetResult* target(const std::string& name, TargetKind kind = TargetKind::kOverlay) {
    if (!published) return nullptr;
    for (const auto& t : published->targets)
      if (t.labels.peer == name && t.target == kind) return &t;
    return nullptr;
  }
  std::optional<int> path_mtu(const std::string& name) {
    for (const auto& m : published->path_mtu)
      if (m.labels.peer == name) return m.bytes;
    return std::nullopt;
  }
  std::optional<bool> exposed(const char* address) {
    for (const auto& e : published->exposure)
      if (e.address == ip(address)) return e.exposed;
    return std::nullopt;
  }
  std::vector<SentPacket> sent_to(const char* address, std::size_t from = 0) {
    std::vector<SentPacket> out;
    for (std::size_t i = from; i < icmp.sent.size(); ++i)
      if (icmp.sent[i].destination == ip(address)) out.push_back(icmp.sent[i]);
    return out;
  }

  std::int64_t now = ns(1000s);  // the fake CLOCK_MONOTONIC
  ProberConfig config;
  ProberEnvironment env;
  FakeIcmp icmp{&now};
  FakeUdp udp;
  std::unique_ptr<ProbeLoop> loop;
  std::optional<std::int64_t> next;  // when the loop asked for its next turn
  std::shared_ptr<const Snapshot> published;
  int publishes = 0;
};

// --- schedule ---

TEST(ProbeLoop, SpreadsTargetsOverTheIntervalAndProbesEachOncePerInterval) {
  Harness h;
  h.start(peer_set({peer("a", "10.42.1.0"), peer("b", "10.42.2.0"), peer("c", "10.42.3.0"),
                    peer("d", "10.42.4.0")}));
  const std::int64_t begin = h.now;
  h.advance(30s);
  // Four targets in one second: slots 250 ms apart in plan order, each send moved from its
  // slot by a jitter of under +-50 ms (a tenth of the interval at most). The slots themselves
  // move by exactly one interval per round, so the jitter never accumulates.
  const std::int64_t jitter = ns(50ms);
  const char* order[] = {"10.42.1.0", "10.42.2.0", "10.42.3.0", "10.42.4.0"};
  const std::int64_t first = h.sent_to(order[0]).front().at_ns;
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(order[i]);
    auto sends = h.sent_to(order[i]);
    ASSERT_GE(sends.size(), 29u);
    EXPECT_LT(sends.front().at_ns, begin + ns(1s) + jitter);
    EXPECT_GT(sends.back().at_ns, begin + ns(29s) - 2 * jitter);
    for (std::size_t k = 1; k < sends.size(); ++k) {
      const std::int64_t since_first = sends[k].at_ns - sends.front().at_ns;
      EXPECT_NEAR(since_first, static_cast<std::int64_t>(k) * ns(1s), 2 * jitter) << "send " << k;
    }
    // Where in the interval this target's slot is, relative to the first target's.
    const std::int64_t phase = ((sends.front().at_ns - first) % ns(1s) + ns(1s)) % ns(1s);
    const std::int64_t want = i * ns(250ms);
    const std::int64_t off = std::min(std::abs(phase - want), ns(1s) - std::abs(phase - want));
    EXPECT_LT(off, 2 * jitter) << "phase " << phase;
  }
}

TEST(ProbeLoop, AsksForItsNextTurnWhenTheNextProbeOrDeadlineIsDue) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  // Nothing else is due before this probe's deadline.
  EXPECT_EQ(h.next, probe->at_ns + ns(300ms));
}

// --- replies ---

TEST(ProbeLoop, MatchedReplyIsTimedByKernelTimestampsElseByTheMonotonicClock) {
  const std::int64_t t = 1'700'000'000'000'000'000;  // a CLOCK_REALTIME reading
  struct Case {
    const char* what;
    std::vector<std::int64_t> tx;  // TX timestamps the error queue delivers
    std::int64_t rx;               // the reply's RX timestamp, 0: none
    double want_seconds;
    std::uint64_t want_fallbacks;
  };
  // The reply is read 7 ms (fake monotonic clock) after the send.
  const Case cases[] = {
      {"both kernel timestamps", {t}, t + 300'000, 300e-6, 0},
      {"two TX timestamps: the later one, closer to the wire",
       {t, t + 100'000},
       t + 300'000,
       200e-6,
       0},
      {"no TX timestamp", {}, t + 300'000, 7e-3, 1},
      {"no RX timestamp", {t}, 0, 7e-3, 1},
      {"RX before TX", {t}, t - 1, 7e-3, 1},
      {"longer than the timeout", {t}, t + ns(300ms) + 1, 7e-3, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Harness h;
    h.start(peer_set({peer("b", "10.42.2.0")}));
    auto probe = h.next_send();
    ASSERT_TRUE(probe);
    for (std::int64_t tx : c.tx) h.icmp.tx_timestamp(*probe, tx);
    h.now += ns(7ms);
    h.icmp.reply_to(*probe, c.rx);
    h.turn();
    auto b = h.target("b");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->requests, 1u);
    EXPECT_EQ(b->responses, 1u);
    EXPECT_EQ(b->rtt.count, 1u);
    EXPECT_DOUBLE_EQ(b->rtt.sum, c.want_seconds);
    EXPECT_EQ(h.published->timestamp_fallbacks, c.want_fallbacks);
  }
}

TEST(ProbeLoop, AProbeUnansweredByItsDeadlineIsLost) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  h.advance_to(probe->at_ns + ns(300ms));
  auto b = h.target("b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->requests, 1u);
  EXPECT_EQ(b->responses, 0u);  // lost: requests - responses
  EXPECT_EQ(b->late, 0u);
  EXPECT_EQ(b->rtt.count, 0u);
}

TEST(ProbeLoop, AReplyReadInTheTurnItsDeadlinePassesStillCounts) {
  // The queue is read before anything expires: a reply that was already there when the
  // thread woke up (late because the thread was, not the reply) is a response.
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  h.now = probe->at_ns + ns(300ms);
  h.icmp.reply_to(*probe);
  h.turn();
  EXPECT_EQ(h.target("b")->responses, 1u);
  EXPECT_EQ(h.target("b")->late, 0u);
}

TEST(ProbeLoop, AReplyAfterTheTimeoutIsLateAndNeverAnRtt) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  h.advance_to(probe->at_ns + ns(300ms));
  h.now += ns(50ms);
  h.icmp.reply_to(*probe);
  h.turn();
  auto b = h.target("b");
  EXPECT_EQ(b->late, 1u);
  EXPECT_EQ(b->responses, 0u);
  EXPECT_EQ(b->duplicates, 0u);
  EXPECT_EQ(b->rtt.count, 0u);
  // A second late copy is a duplicate, not a second late reply.
  h.icmp.reply_to(*probe);
  h.turn();
  EXPECT_EQ(h.target("b")->late, 1u);
  EXPECT_EQ(h.target("b")->duplicates, 1u);
}

TEST(ProbeLoop, AnotherReplyToAnAnsweredProbeIsADuplicateAndAddsNoRtt) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  h.now += ns(1ms);
  h.icmp.reply_to(*probe);
  h.icmp.reply_to(*probe);
  h.turn();
  h.now += ns(1ms);
  h.icmp.reply_to(*probe);
  h.turn();
  auto b = h.target("b");
  EXPECT_EQ(b->requests, 1u);
  EXPECT_EQ(b->responses, 1u);
  EXPECT_EQ(b->duplicates, 2u);
  EXPECT_EQ(b->late, 0u);
  EXPECT_EQ(b->rtt.count, 1u);
}

TEST(ProbeLoop, RepliesThatAreNotOursAreIgnored) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  // Our sequence from another address; another pinger's cookie; another identifier; our own
  // request seen by the raw socket.
  h.icmp.reply(ip("10.42.9.0"), testing::echo_reply_to(probe->icmp));
  Cookie foreign{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0};
  h.icmp.reply(probe->destination, testing::echo_reply_to(build_echo_request(
                                       {FakeIcmp::kIdentifier, probe->sequence(), foreign, 56})));
  auto other_id = testing::echo_reply_to(probe->icmp);
  other_id[4] ^= 0xff;
  h.icmp.reply(probe->destination, other_id);
  h.icmp.reply(probe->destination, probe->icmp);
  h.turn();
  auto b = h.target("b");
  EXPECT_EQ(b->responses + b->duplicates + b->late, 0u);
  h.icmp.reply_to(*probe);
  h.turn();
  EXPECT_EQ(h.target("b")->responses, 1u);
}

// --- send errors ---

TEST(ProbeLoop, AFailedSendIsARequestCountedByItsReason) {
  Harness h;
  h.icmp.send_result = [](const SentPacket&) { return EHOSTUNREACH; };
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  // Tried twice: the first failure may be an earlier probe's error left pending.
  EXPECT_EQ(h.icmp.sent.size(), 2u);
  auto b = h.target("b");
  EXPECT_EQ(b->requests, 1u);
  EXPECT_EQ(b->responses, 0u);
  EXPECT_EQ(b->send_errors, (std::map<std::string, std::uint64_t>{{"EHOSTUNREACH", 1}}));
  // Nothing is in flight: no deadline to wake up for before the next probe.
  EXPECT_GE(*h.next, probe->at_ns + ns(900ms));
}

TEST(ProbeLoop, AnEarlierProbesPendingErrorDoesNotFailTheNextProbe) {
  Harness h;
  int calls = 0;
  h.icmp.send_result = [&](const SentPacket&) { return calls++ == 0 ? EHOSTUNREACH : 0; };
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  ASSERT_EQ(h.icmp.sent.size(), 2u);
  h.icmp.reply_to(h.icmp.sent[1]);
  h.turn();
  auto b = h.target("b");
  EXPECT_TRUE(b->send_errors.empty());
  EXPECT_EQ(b->responses, 1u);
}

// --- batches ---

std::vector<model::Peer> numbered_peers(int count) {
  std::vector<model::Peer> peers;
  for (int i = 0; i < count; ++i) {
    const std::string overlay = "10.42." + std::to_string(i + 1) + ".0";
    peers.push_back(peer("p" + std::to_string(100 + i), overlay.c_str()));
  }
  return peers;
}

// 20 targets a second are 50 ms apart; with 100 ms of slack a turn sends the probe it woke up
// for and those due in the next 100 ms, in one batch. Each target is still probed once an
// interval.
TEST(ProbeLoop, ProbesDueWithinTheSlackGoOutInOneBatch) {
  Harness h;
  h.config.send_slack = 100ms;
  h.start(peer_set(numbered_peers(20)));
  const std::int64_t start = h.now;
  h.advance_to(start + ns(3s));
  const std::size_t sent = h.icmp.sent.size();
  ASSERT_GE(sent, 40u);
  std::size_t batched = 0, largest = 0;
  for (std::size_t size : h.icmp.batches) {
    batched += size;
    largest = std::max(largest, size);
  }
  EXPECT_EQ(batched, sent);  // every echo request went in a batch
  EXPECT_LT(h.icmp.batches.size(), sent / 2);
  EXPECT_GE(largest, 2u);
  for (const auto& p : numbered_peers(20)) {
    auto to = h.sent_to(p.overlay_address->to_string().c_str());
    // 3 s: three probes, or four when the first slot fell right at the start.
    EXPECT_GE(to.size(), 3u) << p.name;
    EXPECT_LE(to.size(), 4u) << p.name;
    for (std::size_t i = 1; i < to.size(); ++i) {
      // One interval apart, give or take the slack and the jitter (at most 50 ms here).
      EXPECT_NEAR(static_cast<double>(to[i].at_ns - to[i - 1].at_ns), 1e9, 150e6) << p.name;
    }
  }
}

// No batch ever takes more than the slack allows: without slack each turn sends what is due.
TEST(ProbeLoop, WithoutSlackEachProbeGoesAtItsOwnTime) {
  Harness h;
  h.config.send_slack = 0ns;
  h.start(peer_set(numbered_peers(20)));
  h.advance_to(h.now + ns(2s));
  for (std::size_t size : h.icmp.batches) EXPECT_EQ(size, 1u);
}

// Batches of two or three requests, one of them always refused: it alone is counted by its
// reason (after one retry, as a lone send), the others are in flight and answered.
TEST(ProbeLoop, ARequestRefusedInABatchCountsOnlyItsOwnReason) {
  Harness h;
  h.config.send_slack = 100ms;
  h.icmp.send_result = [](const SentPacket& p) {
    return p.destination == ip("10.42.5.0") ? EHOSTUNREACH : 0;
  };
  h.start(peer_set(numbered_peers(20)));
  h.run(h.now + ns(2s), [&](const SentPacket& p) {
    if (p.result == 0) h.icmp.reply_to(p);
  });
  EXPECT_GE(*std::max_element(h.icmp.batches.begin(), h.icmp.batches.end()), 2u);
  for (const auto& p : numbered_peers(20)) {
    if (p.name == "p104") continue;
    auto t = h.target(p.name);
    ASSERT_TRUE(t) << p.name;
    EXPECT_GE(t->requests, 1u) << p.name;
    EXPECT_EQ(t->requests, t->responses) << p.name;
    EXPECT_TRUE(t->send_errors.empty()) << p.name;
  }
  auto refused = h.target("p104");
  ASSERT_TRUE(refused);
  EXPECT_GE(refused->requests, 2u);
  EXPECT_EQ(refused->responses, 0u);
  EXPECT_EQ(refused->send_errors,
            (std::map<std::string, std::uint64_t>{{"EHOSTUNREACH", refused->requests}}));
  EXPECT_EQ(h.sent_to("10.42.5.0").size(), 2 * refused->requests);  // each tried twice
}

// A close peer's reply (and the TX timestamp) is queued by the time sendmmsg returns: the
// sending turn reads it, timed by the kernel timestamps, without waiting to be woken again.
TEST(ProbeLoop, RepliesQueuedBeforeTheSendReturnsAreReadInTheSendingTurn) {
  const std::int64_t t = 1'700'000'000'000'000'000;
  Harness h;
  h.icmp.send_result = [&](const SentPacket& p) {
    h.icmp.tx_timestamp(p, t);
    h.icmp.reply_to(p, t + 40'000);
    return 0;
  };
  h.start(peer_set({peer("b", "10.42.2.0")}));
  ASSERT_TRUE(h.next_send());
  auto b = h.target("b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->responses, 1u);
  EXPECT_DOUBLE_EQ(b->rtt.sum, 40e-6);
}

// A turn woken by the timer alone does not read the queues (each read would find nothing);
// the reply is read when the socket says so.
TEST(ProbeLoop, OnlyTheQueuesSeenReadyAreRead) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  h.icmp.reply_to(*probe);
  h.now += ns(1ms);
  h.turn(Ready{false, false, false, false});
  EXPECT_EQ(h.target("b")->responses, 0u);
  h.turn(Ready{true, false, false, false});
  EXPECT_EQ(h.target("b")->responses, 1u);
}

// When a probe's deadline has passed every queue is read whatever the thread saw: a reply
// still queued must not be counted lost.
TEST(ProbeLoop, AtADeadlineEveryQueueIsRead) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  h.icmp.reply_to(*probe);
  h.now = probe->at_ns + ns(300ms);
  h.turn(Ready{false, false, false, false});
  EXPECT_EQ(h.target("b")->responses, 1u);
  EXPECT_EQ(h.target("b")->late, 0u);
}

TEST(ProbeLoop, AnIcmpErrorCountsItsReasonAndTheProbeStaysLost) {
  Harness h;
  h.start(peer_set({peer("b", "10.42.2.0")}));
  auto probe = h.next_send();
  ASSERT_TRUE(probe);
  h.icmp.icmp_error(*probe, EHOSTUNREACH);
  h.turn();
  EXPECT_EQ(h.target("b")->send_errors,
            (std::map<std::string, std::uint64_t>{{"EHOSTUNREACH", 1}}));
  h.advance_to(probe->at_ns + ns(300ms));
  EXPECT_EQ(h.target("b")->requests, 1u);
  EXPECT_EQ(h.target("b")->responses, 0u);
}

// --- peers coming and going ---

TEST(ProbeLoop, ARemovedPeerGoesAtOnceAndItsReplyInFlightIsIgnored) {
  Harness h;
  h.config.publish_interval = 1h;  // so that only the reconcile can publish
  h.start(peer_set({peer("b", "10.42.2.0"), peer("c", "10.42.3.0")}));
  h.advance(2s);
  std::optional<SentPacket> to_c;
  while (!to_c || to_c->destination != ip("10.42.3.0")) to_c = h.next_send();
  const int publishes = h.publishes;

  h.set_peers(peer_set({peer("b", "10.42.2.0")}));
  EXPECT_EQ(h.publishes, publishes + 1) << "the reconcile publishes at once";
  EXPECT_FALSE(h.target("c"));
  ASSERT_TRUE(h.target("b"));
  const std::uint64_t b_requests = h.target("b")->requests;
  EXPECT_GE(b_requests, 2u) << "b's counters survive the reconcile";

  // c's reply arrives after c went: it counts nowhere.
  h.icmp.reply_to(*to_c);
  h.turn();
  const std::size_t after = h.icmp.sent.size();
  h.advance(3s);
  EXPECT_TRUE(h.sent_to("10.42.3.0", after).empty()) << "c is no longer probed";
  h.set_peers(peer_set({peer("b", "10.42.2.0")}));  // publishes
  EXPECT_FALSE(h.target("c"));
  auto b = h.target("b");
  EXPECT_EQ(b->responses + b->duplicates + b->late, 0u);
  EXPECT_EQ(b->requests, h.sent_to("10.42.2.0").size());
  EXPECT_GE(b->requests, b_requests + 2);

  // c back: a new target whose counters start from zero.
  h.set_peers(peer_set({peer("b", "10.42.2.0"), peer("c", "10.42.3.0")}));
  ASSERT_TRUE(h.target("c"));
  EXPECT_EQ(h.target("c")->requests, 0u);
}

// --- path MTU ---

void with_pmtu(Harness& h, int device_mtu) {
  h.config.pmtu_interval = 60s;
  h.env.overlay_mtu = [device_mtu] { return device_mtu; };
}

std::vector<int> df_sizes(const Harness& h) {
  std::vector<int> sizes;
  for (const auto& p : h.icmp.sent)
    if (p.dont_fragment) sizes.push_back(p.ip_size());
  return sizes;
}

TEST(ProbeLoop, PathMtuFollowsARoutersFragmentationNeeded) {
  Harness h;
  with_pmtu(h, 1500);
  h.start(peer_set({peer("b", "10.42.2.0")}));
  EXPECT_EQ(h.published->path_mtu_pending,
            (std::vector<std::pair<std::string, model::Family>>{{"b", model::Family::kIpv4}}));
  // A router whose next hop carries 1400 bytes.
  h.run(h.now + ns(5s), [&](const SentPacket& p) {
    if (p.dont_fragment && p.ip_size() > 1400) {
      h.icmp.icmp_error(p, EMSGSIZE, 1400);
    } else {
      h.icmp.reply_to(p);
    }
  });
  EXPECT_EQ(df_sizes(h), (std::vector<int>{1500, 1400}));
  EXPECT_EQ(h.path_mtu("b"), 1400);
  EXPECT_TRUE(h.published->path_mtu_pending.empty());
}

TEST(ProbeLoop, PathMtuBisectsABlackHoleRetryingEachLostSizeOnce) {
  Harness h;
  with_pmtu(h, 1500);
  h.start(peer_set({peer("b", "10.42.2.0")}));
  // Packets over 1280 bytes vanish without a word.
  h.run(h.now + ns(30s), [&](const SentPacket& p) {
    if (!p.dont_fragment || p.ip_size() <= 1280) h.icmp.reply_to(p);
  });
  EXPECT_EQ(h.path_mtu("b"), 1280);
  std::map<int, int> tries;
  for (int size : df_sizes(h)) ++tries[size];
  EXPECT_EQ(tries[1500], 2);
  EXPECT_EQ(tries[68], 1) << "first checks the path works at all";
  for (const auto& [size, count] : tries) EXPECT_EQ(count, size > 1280 ? 2 : 1) << size;
  EXPECT_TRUE(h.published->path_mtu_pending.empty());
}

TEST(ProbeLoop, PathMtuTakesEmsgsizeAtSendtoAsTheLocalLimit) {
  Harness h;
  with_pmtu(h, 9000);  // the device claims more than the next link carries
  h.icmp.send_result = [](const SentPacket& p) {
    return p.dont_fragment && p.ip_size() > 1400 ? EMSGSIZE : 0;
  };
  h.start(peer_set({peer("b", "10.42.2.0")}));
  h.run(h.now + ns(5s), [&](const SentPacket& p) {
    if (p.result == 0) h.icmp.reply_to(p);
  });
  EXPECT_EQ(h.path_mtu("b"), 1400);
  std::map<int, int> tries;
  for (int size : df_sizes(h)) ++tries[size];
  EXPECT_EQ(tries[9000], 1) << "EMSGSIZE is an answer, not a loss: no retry";
}

TEST(ProbeLoop, PathMtuResultGoesWhenThePeersOverlayAddressMoves) {
  Harness h;
  with_pmtu(h, 1500);
  h.start(peer_set({peer("b", "10.42.2.0")}));
  h.run(h.now + ns(2s), [&](const SentPacket& p) { h.icmp.reply_to(p); });
  ASSERT_EQ(h.path_mtu("b"), 1500);
  h.set_peers(peer_set({peer("b", "10.42.2.0", "192.168.77.2")}));
  EXPECT_EQ(h.path_mtu("b"), 1500) << "same overlay address: the result stays";
  h.set_peers(peer_set({peer("b", "10.42.7.0")}));
  EXPECT_FALSE(h.path_mtu("b"));
  EXPECT_EQ(h.published->path_mtu_pending,
            (std::vector<std::pair<std::string, model::Family>>{{"b", model::Family::kIpv4}}));
}

TEST(ProbeLoop, PathMtuIsNotProbedWhileTheOverlayMtuIsUnknown) {
  Harness h;
  h.config.pmtu_interval = 60s;
  h.env.overlay_mtu = [] { return std::optional<int>(); };
  h.start(peer_set({peer("b", "10.42.2.0")}));
  h.advance(2s);
  EXPECT_TRUE(df_sizes(h).empty());
  EXPECT_FALSE(h.path_mtu("b"));
  EXPECT_TRUE(h.published->path_mtu_pending.empty()) << "nothing to wait for";
}

// --- VXLAN exposure ---

constexpr const char* kMac1 = "0a:00:00:00:00:01";
constexpr const char* kMac2 = "0a:00:00:00:00:02";

void with_exposure(Harness& h) {
  h.config.exposure_interval = 60s;
  h.env.local_vtep = [] { return LocalVtep{1, *parse_mac(kMac1), ip("10.42.1.0")}; };
}

std::shared_ptr<model::PeerSet> public_peer() {
  auto n2 = peer("n2", "10.42.2.0", "192.168.77.2");
  n2.vtep_mac = kMac2;
  n2.external_addresses = {ip("203.0.113.2")};
  return peer_set({n2});
}

// The ICMP request inside the VXLAN frame the loop sent, checked on the way.
std::vector<std::uint8_t> inner_icmp(const testing::SentDatagram& datagram) {
  auto frame = parse_vxlan_frame(datagram.payload);
  EXPECT_TRUE(frame);
  if (!frame) return {};
  EXPECT_EQ(frame->frame.vni, 1u);
  EXPECT_EQ(frame->frame.source_mac, *parse_mac(kMac1));
  EXPECT_EQ(frame->frame.destination_mac, *parse_mac(kMac2));
  EXPECT_EQ(frame->frame.inner_source, ip("10.42.1.0"));
  EXPECT_EQ(frame->frame.inner_destination, ip("10.42.2.0"));
  auto packet = parse_ipv4(frame->inner_ip);
  EXPECT_TRUE(packet);
  if (!packet) return {};
  return {packet->payload.begin(), packet->payload.end()};
}

TEST(ProbeLoop, ExposureIsTrueWhenThePeersOverlayAnswersTheFrame) {
  Harness h;
  with_exposure(h);
  h.start(public_peer(), true);
  ASSERT_EQ(h.udp.sent.size(), 1u);
  EXPECT_EQ(h.udp.sent[0].destination, ip("203.0.113.2"));
  EXPECT_EQ(h.udp.sent[0].port, 8472);
  auto icmp = inner_icmp(h.udp.sent[0]);
  ASSERT_FALSE(icmp.empty());
  EXPECT_FALSE(h.exposed("203.0.113.2")) << "no outcome before the answer or the timeout";
  h.now += ns(1ms);
  h.icmp.reply(ip("10.42.2.0"), testing::echo_reply_to(icmp));
  h.turn();
  EXPECT_EQ(h.exposed("203.0.113.2"), true);
}

TEST(ProbeLoop, ExposureIsFalseWhenTheFrameGoesUnanswered) {
  Harness h;
  with_exposure(h);
  h.start(public_peer(), true);
  ASSERT_EQ(h.udp.sent.size(), 1u);
  h.advance(300ms);
  EXPECT_EQ(h.exposed("203.0.113.2"), false);
  // An answer from the public address is not the overlay answering.
  h.icmp.reply(ip("203.0.113.2"), testing::echo_reply_to(inner_icmp(h.udp.sent[0])));
  h.turn();
  EXPECT_EQ(h.exposed("203.0.113.2"), false);
}

TEST(ProbeLoop, ExposureIsFalseAtOnceWhenTheFrameCannotBeSent) {
  Harness h;
  with_exposure(h);
  h.udp.result = EPERM;
  h.start(public_peer(), true);
  EXPECT_EQ(h.exposed("203.0.113.2"), false);
}

TEST(ProbeLoop, NoExposureProbeWithoutTheLocalVtepOrAUdpChannel) {
  {
    Harness h;
    with_exposure(h);
    h.env.local_vtep = [] { return std::optional<LocalVtep>(); };
    h.start(public_peer(), true);
    h.advance(2s);
    EXPECT_TRUE(h.udp.sent.empty());
    EXPECT_TRUE(h.published->exposure.empty());
  }
  {
    Harness h;
    with_exposure(h);
    h.start(public_peer(), false);
    h.advance(2s);
    EXPECT_TRUE(h.published->exposure.empty());
  }
}

}  // namespace
}  // namespace podpath::prober
