#include "flannel/collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "metrics/exposition.h"

namespace podpath::flannel {
namespace {

const std::string kData = PODPATH_TESTDATA;

std::string render(const metrics::CollectResult& result) {
  return metrics::render(metrics::normalize(result.families), metrics::Format::kText004);
}

struct Harness {
  std::vector<std::string> lines;
  base::Logger log{base::LogLevel::kInfo, base::LogFormat::kLogfmt,
                   [this](std::string_view line) { lines.emplace_back(line); }};
  double now = 1700000000;
  FlannelCollector make(const std::string& path, base::FileReader reader = read_subnet_file) {
    return FlannelCollector(
        path, log, [this] { return now; }, std::move(reader));
  }
};

TEST(FlannelCollector, ReportsLeaseAndMtu) {
  Harness h;
  auto collector = h.make(kData + "/lima-k3s-agent.env");
  metrics::CollectResult result = collector.collect();
  ASSERT_TRUE(result.success) << result.error;
  EXPECT_EQ(render(result),
            "# HELP podpath_flannel_mtu_bytes The MTU flannel gives pods (FLANNEL_MTU in "
            "subnet.env).\n"
            "# TYPE podpath_flannel_mtu_bytes gauge\n"
            "podpath_flannel_mtu_bytes 1450\n"
            "# HELP podpath_flannel_subnet_info flannel's cluster network and this node's lease, "
            "from subnet.env (one series per address family).\n"
            "# TYPE podpath_flannel_subnet_info gauge\n"
            "podpath_flannel_subnet_info{family=\"ipv4\",network=\"10.42.0.0/"
            "16\",subnet=\"10.42.2.1/24\"} "
            "1\n");
  ASSERT_TRUE(collector.latest());
  EXPECT_EQ(collector.latest()->mtu, 1450);
}

TEST(FlannelCollector, DualStackHasOneSeriesPerFamily) {
  Harness h;
  auto collector = h.make(kData + "/dual-stack.env");
  std::string text = render(collector.collect());
  EXPECT_NE(text.find("{family=\"ipv4\",network=\"10.42.0.0/16\",subnet=\"10.42.0.1/24\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("{family=\"ipv6\",network=\"2001:cafe:42::/56\",subnet=\"2001:cafe:42::1/64\"} 1"),
      std::string::npos);
}

TEST(FlannelCollector, MissingFileIsNotApplicableAndLoggedOnce) {
  Harness h;
  auto collector = h.make(kData + "/no-such-file.env");
  for (int i = 0; i < 3; ++i) {
    metrics::CollectResult result = collector.collect();
    EXPECT_TRUE(result.success);
    EXPECT_TRUE(result.families.empty());
  }
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_NE(h.lines[0].find("level=info"), std::string::npos) << h.lines[0];
  EXPECT_NE(h.lines[0].find("no-such-file.env"), std::string::npos) << h.lines[0];
}

TEST(FlannelCollector, MalformedFileFailsNamingTheLineAndKeepsTheLastGoodSeries) {
  Harness h;
  std::string content =
      "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.2.1/24\nFLANNEL_MTU=1450\n";
  auto collector = h.make("subnet.env", [&](const std::string&) {
    return base::FileRead{content, 0};
  });
  metrics::CollectResult good = collector.collect();
  ASSERT_TRUE(good.success);
  h.now += 60;
  content = "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.2.1/24\nFLANNEL_MTU=fourteen\n";
  metrics::CollectResult bad = collector.collect();
  EXPECT_FALSE(bad.success);
  EXPECT_EQ(bad.error, "subnet.env: line 3: FLANNEL_MTU=fourteen: not an MTU between 68 and 65535");
  EXPECT_EQ(render(bad), render(good)) << "stale series kept";
  EXPECT_EQ(bad.last_success_unix_seconds, 1700000000);
  // The doctor and the status page say why (SubnetView::refused); a good read clears it.
  EXPECT_EQ(collector.refused(),
            "subnet.env: line 3: FLANNEL_MTU=fourteen: not an MTU between 68 and 65535");
  content = "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.2.1/24\nFLANNEL_MTU=1450\n";
  ASSERT_TRUE(collector.collect().success);
  EXPECT_EQ(collector.refused(), "");
}

TEST(FlannelCollector, MalformedFileBeforeAnySuccessHasNoSeries) {
  Harness h;
  auto collector = h.make(kData + "/truncated.env");
  metrics::CollectResult result = collector.collect();
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.error.find("truncated.env: line 3: no newline"), std::string::npos)
      << result.error;
  EXPECT_TRUE(result.families.empty());
  EXPECT_FALSE(result.last_success_unix_seconds.has_value());
}

TEST(FlannelCollector, UnreadableFileIsAFailure) {
  Harness h;
  auto collector = h.make("/run/x.env", [](const std::string&) {
    return base::FileRead{std::nullopt, EACCES};
  });
  metrics::CollectResult result = collector.collect();
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.error, "/run/x.env: Permission denied");
}

// A writer that truncates and rewrites the file in place (unlike flannel's rename) while
// the collector reads: every result is one of the two real files or an error.
TEST(FlannelCollector, FileRewrittenDuringReadsNeverGivesGarbage) {
  char dir_template[] = "/tmp/podpath-flannel-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/subnet.env";
  const std::string a =
      "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.2.1/"
      "24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";
  const std::string b =
      "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.7.1/"
      "24\nFLANNEL_MTU=1230\nFLANNEL_IPMASQ=true\n";
  std::ofstream(path) << a;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      FILE* f = std::fopen(path.c_str(), "w");
      const std::string& text = i % 2 ? a : b;
      // Two writes with a flush between, so readers can see half a file.
      std::fwrite(text.data(), 1, text.size() / 2, f);
      std::fflush(f);
      std::fwrite(text.data() + text.size() / 2, 1, text.size() - text.size() / 2, f);
      std::fclose(f);
      // Whole files stay in place a moment, so readers see both whole and half files.
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  Harness h;
  auto collector = h.make(path);
  int good = 0, errors = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; (i < 3000 || good == 0) && std::chrono::steady_clock::now() < until; ++i) {
    metrics::CollectResult result = collector.collect();
    if (!result.success) {
      ++errors;
      continue;
    }
    ASSERT_FALSE(result.families.empty());
    ++good;
    auto env = collector.latest();
    ASSERT_TRUE(env);
    EXPECT_TRUE((env->subnet == "10.42.2.1/24" && env->mtu == 1450) ||
                (env->subnet == "10.42.7.1/24" && env->mtu == 1230))
        << env->subnet << " " << *env->mtu;
  }
  stop = true;
  writer.join();
  std::remove(path.c_str());
  rmdir(dir_template);
  EXPECT_GT(good, 0);
  std::printf("%d consistent reads, %d rejected partial reads\n", good, errors);
}

}  // namespace
}  // namespace podpath::flannel
