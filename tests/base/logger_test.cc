#include "base/logger.h"

#include <gtest/gtest.h>

namespace podpath::base {
namespace {

using namespace std::chrono_literals;

struct Captured {
  std::vector<std::string> lines;
  std::chrono::system_clock::time_point now{std::chrono::seconds(1795600000)};
  Logger make(LogLevel level, LogFormat format) {
    return Logger(
        level, format, [this](std::string_view l) { lines.emplace_back(l); },
        [this] { return now; });
  }
};

TEST(Logger, LogfmtQuotesWhatNeedsIt) {
  Captured c;
  auto log = c.make(LogLevel::kInfo, LogFormat::kLogfmt);
  log.info("listening now", {{"addr", ":18472"}, {"err", "a \"b\""}, {"empty", ""}});
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0],
            "ts=2026-11-25T09:46:40Z level=info msg=\"listening now\" addr=:18472 "
            "err=\"a \\\"b\\\"\" empty=\"\"\n");
}

TEST(Logger, JsonEscapesAndFilters) {
  Captured c;
  auto log = c.make(LogLevel::kWarn, LogFormat::kJson);
  log.info("hidden");
  log.error("bad\nthing", {{"k", "v"}});
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0],
            "{\"ts\":\"2026-11-25T09:46:40Z\",\"level\":\"error\",\"msg\":\"bad\\nthing\",\"k\":"
            "\"v\"}\n");
}

TEST(Logger, GarbageBytesStayValidJsonAndOneLogfmtToken) {
  // What a garbled subnet.env or socket answer puts into an error message: NUL, a byte
  // that is not UTF-8, DEL, a valid "é", and a sequence cut short at the end.
  const std::string garbage = std::string("a\0", 2) + "\xff" + "b\x7f" + "\xc3\xa9" + "\xe2\x82";
  Captured c;
  auto json = c.make(LogLevel::kInfo, LogFormat::kJson);
  json.warn("read failed", {{"err", garbage}});
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0],
            "{\"ts\":\"2026-11-25T09:46:40Z\",\"level\":\"warn\",\"msg\":\"read failed\",\"err\":"
            "\"a\\u0000\\ufffdb\\u007f\xc3\xa9\\ufffd\\ufffd\"}\n");

  auto logfmt = c.make(LogLevel::kInfo, LogFormat::kLogfmt);
  logfmt.warn("x", {{"bad",
                     "x\xff"
                     "y"},
                    {"esc",
                     "a\x1b"
                     "b"},
                    {"utf8", "caf\xc3\xa9"}});
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[1],
            "ts=2026-11-25T09:46:40Z level=warn msg=x bad=\"x\\ufffdy\" esc=\"a\\u001bb\" "
            "utf8=caf\xc3\xa9\n");
}

TEST(Logger, WarnEveryRateLimitsPerKey) {
  Captured c;
  auto log = c.make(LogLevel::kInfo, LogFormat::kLogfmt);
  EXPECT_TRUE(log.warn_every("a", 60s, "x"));
  EXPECT_FALSE(log.warn_every("a", 60s, "x"));
  EXPECT_TRUE(log.warn_every("b", 60s, "y"));
  c.now += 61s;
  EXPECT_TRUE(log.warn_every("a", 60s, "x"));
  EXPECT_EQ(c.lines.size(), 3u);
}

TEST(Logger, AModulesLoggerNamesItsCollectorOnEveryLineAndSharesTheSink) {
  Captured c;
  auto log = c.make(LogLevel::kInfo, LogFormat::kLogfmt);
  auto netlink = log.with({{"collector", "netlink"}});
  netlink.warn("dump interrupted", {{"attempts", "5"}});
  log.info("listening");
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0],
            "ts=2026-11-25T09:46:40Z level=warn msg=\"dump interrupted\" collector=netlink "
            "attempts=5\n");
  EXPECT_EQ(c.lines[1], "ts=2026-11-25T09:46:40Z level=info msg=listening\n");
  // One rate limit for the process: a key spent through one copy is spent for all.
  EXPECT_TRUE(netlink.warn_every("netlink-dump", 60s, "x"));
  EXPECT_FALSE(log.warn_every("netlink-dump", 60s, "x"));
}

TEST(Logger, ParsesLevelsAndFormats) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_FALSE(parse_log_level("loud"));
  EXPECT_EQ(parse_log_format("json"), LogFormat::kJson);
  EXPECT_FALSE(parse_log_format("xml"));
}

}  // namespace
}  // namespace podpath::base
