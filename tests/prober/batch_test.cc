// Batch sends as pure logic: send_each against a scripted kernel (what each sendmmsg call does
// with the messages it is given), and EchoBatch's packing of requests into one buffer.
#include "prober/batch.h"

#include <errno.h>
#include <gtest/gtest.h>

#include <vector>

namespace podpath::prober {
namespace {

// A kernel that refuses the messages in `refused` with their errno, as sendmmsg does: it
// sends up to the first refused message of a call; the call fails only when that is the first.
struct ScriptedKernel {
  std::vector<int> refused;  // per message: 0 goes, else its errno
  std::vector<std::pair<std::size_t, std::size_t>> calls;

  SendResult operator()(std::size_t first, std::size_t count) {
    calls.emplace_back(first, count);
    std::size_t sent = 0;
    while (sent < count && refused[first + sent] == 0) ++sent;
    if (sent == 0) return {0, refused[first]};
    return {sent, 0};
  }
};

TEST(SendEach, AllGoInOneCall) {
  ScriptedKernel kernel{{0, 0, 0, 0}, {}};
  std::vector<int> errors(4, -1);
  send_each(4, kernel, errors);
  EXPECT_EQ(errors, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(kernel.calls, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 4}}));
}

// sendmmsg returns 2 for a batch whose third message fails, without its error: the next call
// starts there, fails with that message's errno, and the rest go in a third.
TEST(SendEach, APartialSendReportsTheFailedMessagesErrnoAndSendsTheRest) {
  ScriptedKernel kernel{{0, 0, EHOSTUNREACH, 0, 0}, {}};
  std::vector<int> errors(5, -1);
  send_each(5, kernel, errors);
  EXPECT_EQ(errors, (std::vector<int>{0, 0, EHOSTUNREACH, 0, 0}));
  EXPECT_EQ(kernel.calls,
            (std::vector<std::pair<std::size_t, std::size_t>>{{0, 5}, {2, 3}, {3, 2}}));
}

TEST(SendEach, EveryFailureKeepsItsOwnErrno) {
  ScriptedKernel kernel{{EPERM, ENETUNREACH, 0, EAGAIN, EAGAIN}, {}};
  std::vector<int> errors(5, -1);
  send_each(5, kernel, errors);
  EXPECT_EQ(errors, (std::vector<int>{EPERM, ENETUNREACH, 0, EAGAIN, EAGAIN}));
}

TEST(SendEach, ACallThatSendsNothingWithoutAnErrnoCountsAsEioAndMovesOn) {
  std::size_t calls = 0;
  std::vector<int> errors(2, -1);
  send_each(
      2,
      [&](std::size_t first, std::size_t) {
        ++calls;
        return first == 0 ? SendResult{0, 0} : SendResult{1, 0};
      },
      errors);
  EXPECT_EQ(errors, (std::vector<int>{EIO, 0}));
  EXPECT_EQ(calls, 2u);
}

TEST(SendEach, AKernelClaimingMoreThanItWasGivenIsClamped) {
  std::vector<int> errors(3, -1);
  send_each(
      3,
      [](std::size_t, std::size_t) {
        return SendResult{10, 0};
      },
      errors);
  EXPECT_EQ(errors, (std::vector<int>{0, 0, 0}));
}

constexpr Cookie kCookie{1, 2, 3, 4, 5, 6, 7, 8};

TEST(EchoBatch, PacksEachRequestAsBuildEchoRequestDoesInOrder) {
  EchoBatch batch(false);
  EXPECT_TRUE(batch.empty());
  batch.add(model::IpAddress::v4(0x0a000001), {0x5150, 7, kCookie, 56}, 11);
  batch.add(model::IpAddress::v4(0x0a000002), {0x5150, 8, kCookie, 100}, 12);
  ASSERT_EQ(batch.size(), 2u);
  auto messages = batch.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].destination, model::IpAddress::v4(0x0a000001));
  EXPECT_EQ(messages[1].destination, model::IpAddress::v4(0x0a000002));
  auto first = build_echo_request({0x5150, 7, kCookie, 56});
  auto second = build_echo_request({0x5150, 8, kCookie, 100});
  EXPECT_EQ(std::vector<std::uint8_t>(messages[0].icmp.begin(), messages[0].icmp.end()), first);
  EXPECT_EQ(std::vector<std::uint8_t>(messages[1].icmp.begin(), messages[1].icmp.end()), second);
  ASSERT_EQ(batch.entries().size(), 2u);
  EXPECT_EQ(batch.entries()[0].job, 11u);
  EXPECT_EQ(batch.entries()[0].sequence, 7);
  EXPECT_EQ(batch.entries()[1].job, 12u);
  EXPECT_EQ(batch.entries()[1].sequence, 8);
}

TEST(EchoBatch, AnIpv6BatchPacksIcmpv6Requests) {
  EchoBatch batch(true);
  const auto destination = *model::IpAddress::parse("fd00:201::2");
  batch.add(destination, {0x6150, 9, kCookie, 56}, 1);
  auto messages = batch.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].destination, destination);
  auto expected = build_echo6_request({0x6150, 9, kCookie, 56});
  EXPECT_EQ(std::vector<std::uint8_t>(messages[0].icmp.begin(), messages[0].icmp.end()), expected);
}

TEST(EchoBatch, FillsToItsCapacityAndStartsEmptyAfterClear) {
  EchoBatch batch(false);
  for (std::size_t i = 0; i < EchoBatch::kCapacity; ++i) {
    EXPECT_FALSE(batch.full());
    batch.add(model::IpAddress::v4(0x0a000000 + static_cast<std::uint32_t>(i)),
              {1, static_cast<std::uint16_t>(i), kCookie, 56}, static_cast<std::uint32_t>(i));
  }
  EXPECT_TRUE(batch.full());
  // Every message still points at its own request after the buffer grew.
  auto messages = batch.messages();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    auto echo = parse_icmp_echo(messages[i].icmp, kCookie);
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->sequence, i);
    EXPECT_TRUE(echo->cookie_matches);
  }
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.messages().empty());
  batch.add(model::IpAddress::v4(1), {1, 99, kCookie, 56}, 5);
  EXPECT_EQ(batch.entries()[0].sequence, 99);
}

TEST(WriteEchoRequest, RefusesABufferTooSmall) {
  std::vector<std::uint8_t> small(20);
  EXPECT_EQ(write_echo_request({1, 2, kCookie, 56}, small), 0u);
  std::vector<std::uint8_t> exact(kIcmpHeaderSize + 56);
  EXPECT_EQ(write_echo_request({1, 2, kCookie, 56}, exact), exact.size());
  EXPECT_EQ(exact, build_echo_request({1, 2, kCookie, 56}));
}

}  // namespace
}  // namespace podpath::prober
