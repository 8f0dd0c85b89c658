#include "prober/matcher.h"

#include <gtest/gtest.h>

namespace podpath::prober {
namespace {

const model::Ipv4 kA = *model::Ipv4::parse("10.42.1.0");
const model::Ipv4 kB = *model::Ipv4::parse("10.42.2.0");

ProbeRecord probe(std::uint32_t job, model::Ipv4 to, std::int64_t sent) {
  ProbeRecord r;
  r.job = job;
  r.destination = to;
  r.sent_ns = sent;
  return r;
}

TEST(Matcher, SequencesStartWhereToldAndWrap) {
  Matcher m(65534);
  EXPECT_EQ(m.add(probe(1, kA, 0), 100), 65534);
  EXPECT_EQ(m.add(probe(1, kA, 0), 100), 65535);
  EXPECT_EQ(m.add(probe(1, kA, 0), 100), 0);
  EXPECT_EQ(m.in_flight(), 3u);
}

TEST(Matcher, ReplyVerdictsInOrder) {
  struct Step {
    const char* what;
    std::int64_t expire_at;  // -1: no expiry before the reply
    model::Ipv4 source;
    ReplyVerdict want;
  };
  // One probe to kA sent at 0 with deadline 100; each row is one event on it.
  const std::vector<std::vector<Step>> cases = {
      {{"first reply", -1, kA, ReplyVerdict::kMatched},
       {"second reply", -1, kA, ReplyVerdict::kDuplicate},
       {"third reply", -1, kA, ReplyVerdict::kDuplicate}},
      {{"after timeout", 100, kA, ReplyVerdict::kLate},
       {"again after timeout", -1, kA, ReplyVerdict::kDuplicate}},
      {{"from the wrong address", -1, kB, ReplyVerdict::kUnknown},
       {"then the right one", -1, kA, ReplyVerdict::kMatched}},
  };
  for (const auto& steps : cases) {
    Matcher m(10);
    auto seq = m.add(probe(7, kA, 0), 100);
    for (const auto& step : steps) {
      if (step.expire_at >= 0) {
        EXPECT_EQ(m.expire(step.expire_at).size(), 1u) << step.what;
      }
      auto match = m.on_reply(seq, step.source);
      EXPECT_EQ(match.verdict, step.want) << step.what;
      if (match.verdict != ReplyVerdict::kUnknown) {
        EXPECT_EQ(match.record.job, 7u) << step.what;
      }
    }
  }
}

TEST(Matcher, UnknownSequenceIsNotOurs) {
  Matcher m(10);
  m.add(probe(1, kA, 0), 100);
  EXPECT_EQ(m.on_reply(11, kA).verdict, ReplyVerdict::kUnknown);
  EXPECT_EQ(m.on_reply(9, kA).verdict, ReplyVerdict::kUnknown);
}

// An ICMPv6 echo to flannel-v6.1's address (the pod subnet's network address, so also its
// Subnet-Router anycast address) is answered from a unicast address of the peer, e.g. its
// tailnet address over a Tailscale subnet route (RFC 4443 4.2): any source is accepted there,
// and a reply from the wrong address is still refused where the source is checked.
TEST(Matcher, AnySourceMatchesAnAnycastProbesReply) {
  Matcher m(10);
  const model::Ipv4 anycast = destination_key(*model::IpAddress::parse("2001:cafe:42::"));
  const model::Ipv4 tailnet = destination_key(*model::IpAddress::parse("fd7a:115c:a1e0::6301"));
  m.add(probe(1, anycast, 0), 100);
  EXPECT_EQ(m.on_reply(10, tailnet).verdict, ReplyVerdict::kUnknown);
  EXPECT_EQ(m.on_reply(10, std::nullopt).verdict, ReplyVerdict::kMatched);
  EXPECT_EQ(m.on_reply(10, std::nullopt).verdict, ReplyVerdict::kDuplicate);
}

TEST(Matcher, ReorderedRepliesMatchTheirOwnProbes) {
  Matcher m(100);
  std::vector<std::uint16_t> seqs;
  for (std::uint32_t job = 0; job < 5; ++job) seqs.push_back(m.add(probe(job, kA, job * 10), 1000));
  for (int i = 4; i >= 0; --i) {
    auto match = m.on_reply(seqs[static_cast<std::size_t>(i)], kA);
    EXPECT_EQ(match.verdict, ReplyVerdict::kMatched);
    EXPECT_EQ(match.record.job, static_cast<std::uint32_t>(i));
    EXPECT_EQ(match.record.sent_ns, i * 10);
  }
  EXPECT_EQ(m.in_flight(), 0u);
  EXPECT_TRUE(m.expire(2000).empty());  // answered probes never time out
}

TEST(Matcher, ExpiresOnlyPastDeadlinesInSendOrder) {
  Matcher m(0);
  m.add(probe(1, kA, 0), 100);
  m.add(probe(2, kA, 10), 110);
  m.add(probe(3, kA, 20), 120);
  EXPECT_EQ(m.next_deadline(), 100);
  EXPECT_TRUE(m.expire(99).empty());
  auto expired = m.expire(110);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].record.job, 1u);
  EXPECT_EQ(expired[1].record.job, 2u);
  EXPECT_EQ(m.next_deadline(), 120);
  EXPECT_EQ(m.in_flight(), 1u);
}

TEST(Matcher, NextDeadlineSkipsAnsweredAndCancelled) {
  Matcher m(0);
  auto first = m.add(probe(1, kA, 0), 100);
  auto second = m.add(probe(2, kA, 0), 200);
  m.add(probe(3, kA, 0), 300);
  m.on_reply(first, kA);
  m.cancel(second);
  EXPECT_EQ(m.next_deadline(), 300);
}

TEST(Matcher, CancelledProbeNeverTimesOutOrMatches) {
  Matcher m(0);
  auto seq = m.add(probe(1, kA, 0), 100);
  m.cancel(seq);
  EXPECT_TRUE(m.expire(1000).empty());
  EXPECT_EQ(m.on_reply(seq, kA).verdict, ReplyVerdict::kUnknown);
  EXPECT_EQ(m.in_flight(), 0u);
}

TEST(Matcher, TxTimestampTravelsWithTheRecord) {
  Matcher m(0);
  auto seq = m.add(probe(1, kA, 0), 100);
  EXPECT_EQ(m.in_flight(seq)->tx_kernel_ns, 0);
  m.set_tx_timestamp(seq, 123456789);  // leaving the driver
  m.set_tx_timestamp(seq, 123450000);  // entering the first device, reported later
  EXPECT_EQ(m.on_reply(seq, kA).record.tx_kernel_ns, 123456789);
  EXPECT_FALSE(m.in_flight(seq));
}

TEST(Matcher, WrapOntoAProbeInFlightDisplacesIt) {
  Matcher m(0);
  auto first = m.add(probe(1, kA, 0), 1'000'000);
  for (int i = 1; i < 65536; ++i) m.add(probe(2, kB, 0), 1'000'000);
  std::optional<Expired> displaced;
  auto again = m.add(probe(3, kA, 5), 2'000'000, &displaced);
  EXPECT_EQ(again, first);
  ASSERT_TRUE(displaced);
  EXPECT_EQ(displaced->record.job, 1u);
  EXPECT_EQ(m.in_flight(), 65536u);
  // The stale deadline entry of the displaced probe must not expire the new one.
  auto expired = m.expire(1'000'000);
  EXPECT_EQ(expired.size(), 65535u);
  EXPECT_EQ(m.on_reply(again, kA).record.job, 3u);
}

}  // namespace
}  // namespace podpath::prober
