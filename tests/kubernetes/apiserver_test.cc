// The cluster view against the lab's fake Kubernetes API server: the real libcurl client,
// the watcher and the peer registry, with changes and faults injected through the
// server's admin socket.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "fake_apiserver.h"
#include "kubernetes/curl_api.h"
#include "kubernetes/watcher.h"
#include "model/peer.h"

namespace podpath::kubernetes {
namespace {

using namespace std::chrono_literals;
using testing::FakeApiServer;

const std::string kSelf = "lima-k3s-agent";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path + ".tmp") << content;
  std::filesystem::rename(path + ".tmp", path);  // atomic, as kubelet rotates tokens
}

// Polls `done` every 5 ms; the seconds it took, or -1 after `timeout`.
template <typename F>
double wait_until(F done, std::chrono::milliseconds timeout = 5000ms) {
  auto start = std::chrono::steady_clock::now();
  while (true) {
    if (done())
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (std::chrono::steady_clock::now() - start > timeout) return -1;
    std::this_thread::sleep_for(5ms);
  }
}

// The exporter's cluster-view pipeline: CurlNodeApi -> Watcher -> PeerRegistry.
class Pipeline {
 public:
  explicit Pipeline(const ApiConfig& config, std::chrono::milliseconds request_timeout = 5000ms)
      : log_(base::LogLevel::kDebug, base::LogFormat::kLogfmt,
             [this](std::string_view line) {
               std::lock_guard lock(mutex_);
               lines_.emplace_back(line);
             }),
        registry_(kSelf) {
    CurlOptions curl;
    curl.connect_timeout = 2000ms;
    curl.request_timeout = request_timeout;
    curl.user_agent = "podpath-test";
    api_ = std::make_unique<CurlNodeApi>(config, curl, NodeParseOptions{});
    WatcherOptions options;
    options.self_name = kSelf;
    options.watch_timeout = 300s;
    options.backoff_initial = 100ms;
    options.backoff_max = 400ms;
    options.publish_delay = 100ms;
    watcher_ = std::make_unique<Watcher>(
        *api_, options,
        [this](std::vector<model::ClusterNode> nodes) {
          registry_.set_cluster_nodes(std::move(nodes));
        },
        log_,
        [] {
          return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
        },
        [this] { return std::uniform_real_distribution<double>(0, 1)(random_); });
    watcher_->start();
  }
  ~Pipeline() { watcher_->stop(); }

  std::shared_ptr<const model::PeerSet> peers() const { return registry_.current(); }
  const model::Peer* peer(const std::shared_ptr<const model::PeerSet>& set,
                          const std::string& name) const {
    for (const auto& p : set->peers)
      if (p.name == name) return &p;
    return nullptr;
  }
  bool has_peer(const std::string& name) const { return peer(peers(), name) != nullptr; }
  WatcherSnapshot snapshot() const { return watcher_->snapshot(); }
  std::string logs() {
    std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    return all;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
  base::Logger log_;
  model::PeerRegistry registry_;
  std::mt19937_64 random_{42};
  std::unique_ptr<CurlNodeApi> api_;
  std::unique_ptr<Watcher> watcher_;
};

// Faults hit open watches: wait until the exporter's watch is open (not just listed),
// or a fault could land between the list and the watch and miss it.
bool wait_watching(FakeApiServer& server) {
  return wait_until([&] { return server.client_stats().value("open_watches", 0) == 1; }) >= 0;
}

ApiConfig config_from(const FakeApiServer& server) {
  auto parsed = parse_kubeconfig(slurp(server.kubeconfig()), server.state_dir(), "",
                                 "kubeconfig " + server.kubeconfig());
  EXPECT_TRUE(parsed) << parsed.error();
  return parsed ? *parsed : ApiConfig{};
}

// Skips (with the reason) when the lab's server is not in the tree; fails when it is but
// does not start.
#define START_SERVER(name, ...)                                                          \
  if (!std::filesystem::exists(testing::fake_apiserver_path()))                          \
    GTEST_SKIP() << "lab fake API server missing at " << testing::fake_apiserver_path(); \
  FakeApiServer name{__VA_ARGS__};                                                       \
  ASSERT_TRUE(name.running()) << name.error()

TEST(ApiServer, ListThenFollowsEveryChangeWithinASecond) {
  START_SERVER(server);
  Pipeline pipeline(config_from(server));
  ASSERT_GE(wait_until([&] { return pipeline.peers()->peers.size() == 5; }), 0) << pipeline.logs();
  auto set = pipeline.peers();
  EXPECT_EQ(set->self_group, "sapporo");
  ASSERT_TRUE(set->self);
  EXPECT_EQ(set->self->pod_cidr->to_string(), "10.42.2.0/24");

  // ADDED
  ASSERT_TRUE(server.admin("/nodes/add", R"({"count": 1})")["ok"]);
  double added = wait_until([&] { return pipeline.has_peer("k3s-node-00000"); });
  EXPECT_GE(added, 0);
  EXPECT_LT(added, 1.0);

  // MODIFIED: the vmnet change of the field report moves a peer's VTEP.
  ASSERT_TRUE(server.admin("/nodes/annotate", R"({"name":"lima-k3s-agent-2","annotations":
      {"flannel.alpha.coreos.com/public-ip":"192.168.105.3"}})")["ok"]);
  double moved = wait_until([&] {
    auto s = pipeline.peers();
    auto* p = pipeline.peer(s, "lima-k3s-agent-2");
    return p && p->vtep_address && p->vtep_address->to_string() == "192.168.105.3";
  });
  EXPECT_GE(moved, 0);
  EXPECT_LT(moved, 1.0);

  // NotReady and cordoned peers stay, marked.
  ASSERT_TRUE(server.admin("/nodes/ready", R"({"name":"lima-k3s-agent-3","ready":false})")["ok"]);
  ASSERT_TRUE(
      server.admin("/nodes/patch",
                   R"({"name":"lima-k3s-agent-4","patch":{"spec":{"unschedulable":true}}})")["ok"]);
  double marked = wait_until([&] {
    auto s = pipeline.peers();
    auto* down = pipeline.peer(s, "lima-k3s-agent-3");
    auto* cordoned = pipeline.peer(s, "lima-k3s-agent-4");
    return down && !down->ready && cordoned && cordoned->unschedulable && cordoned->ready;
  });
  EXPECT_GE(marked, 0);
  EXPECT_LT(marked, 1.0);

  // This node's group label feeds podpath_node_info{group}.
  ASSERT_TRUE(server.admin("/nodes/label", R"({"name":"lima-k3s-agent","labels":
      {"topology.kubernetes.io/zone":"home"}})")["ok"]);
  double regrouped = wait_until([&] { return pipeline.peers()->self_group == "home"; });
  EXPECT_GE(regrouped, 0);
  EXPECT_LT(regrouped, 1.0);

  // DELETED
  ASSERT_TRUE(server.admin("/nodes/remove", R"({"names":["k3s-node-00000"]})")["ok"]);
  double removed = wait_until([&] { return !pipeline.has_peer("k3s-node-00000"); });
  EXPECT_GE(removed, 0);
  EXPECT_LT(removed, 1.0);

  WatcherSnapshot s = pipeline.snapshot();
  EXPECT_EQ(s.events["ADDED"], 1u);
  EXPECT_EQ(s.events["DELETED"], 1u);
  EXPECT_GE(s.events["MODIFIED"], 4u);
  EXPECT_EQ(s.relists, 0u);
  EXPECT_TRUE(s.healthy);
  auto stats = server.client_stats();
  EXPECT_EQ(stats["list"], 1) << stats.dump();
  EXPECT_EQ(stats["watch"], 1) << stats.dump();
  EXPECT_EQ(stats["open_watches"], 1) << stats.dump();
  std::cout << "[ measure  ] change -> peer set: added " << added << " s, moved " << moved
            << " s, marked " << marked << " s, regrouped " << regrouped << " s, removed " << removed
            << " s\n";
}

TEST(ApiServer, BookmarksAndDroppedWatchesResumeWithoutRelisting) {
  START_SERVER(server, std::vector<std::string>{"--bookmark-interval", "0.5"});
  Pipeline pipeline(config_from(server));
  ASSERT_GE(wait_until([&] { return pipeline.peers()->peers.size() == 5; }), 0) << pipeline.logs();
  ASSERT_TRUE(wait_watching(server)) << pipeline.logs();
  EXPECT_GE(wait_until([&] { return pipeline.snapshot().events["BOOKMARK"] >= 1; }), 0);

  int watches_started = 1;
  for (const char* mode : {"close", "reset"}) {
    // Drop only a watch that is open: under load the exporter may still be in its backoff
    // after the previous drop, and a drop that finds nothing would test nothing.
    ASSERT_GE(wait_until([&] {
                auto stats = server.client_stats();
                return stats["watch"] == watches_started && stats["open_watches"] == 1;
              }),
              0)
        << server.client_stats().dump() << pipeline.logs();
    ASSERT_TRUE(server.admin("/watches/drop", fmt::format(R"({{"mode":"{}"}})", mode))["ok"]);
    ASSERT_TRUE(server.admin("/nodes/add", R"({"count": 1})")["ok"]);
    ++watches_started;
  }
  ASSERT_GE(wait_until([&] {
              return pipeline.has_peer("k3s-node-00000") && pipeline.has_peer("k3s-node-00001");
            }),
            0)
      << pipeline.logs();
  ASSERT_GE(wait_until([&] { return server.client_stats()["open_watches"] == 1; }), 0);
  auto stats = server.client_stats();
  EXPECT_EQ(stats["list"], 1) << stats.dump();
  EXPECT_EQ(stats["watch"], 3) << stats.dump();
  EXPECT_EQ(pipeline.snapshot().relists, 0u);
}

TEST(ApiServer, ExpiredVersionRelists) {
  START_SERVER(server);
  Pipeline pipeline(config_from(server));
  ASSERT_GE(wait_until([&] { return pipeline.peers()->peers.size() == 5; }), 0) << pipeline.logs();
  ASSERT_TRUE(wait_watching(server)) << pipeline.logs();
  // Compact the history and cut the watch; a node leaves while the exporter reconnects.
  ASSERT_TRUE(server.admin("/history/expire", R"({"drop_watches": true})")["ok"]);
  ASSERT_TRUE(server.admin("/nodes/remove", R"({"names":["lima-k3s-agent-4"]})")["ok"]);
  ASSERT_TRUE(server.admin("/history/expire", R"({"drop_watches": false})")["ok"]);
  ASSERT_GE(wait_until([&] { return !pipeline.has_peer("lima-k3s-agent-4"); }), 0)
      << pipeline.logs();
  ASSERT_GE(wait_until([&] { return pipeline.snapshot().relists >= 1; }), 0);
  EXPECT_GE(server.client_stats()["list"], 2);
  EXPECT_EQ(pipeline.peers()->peers.size(), 4u);
  EXPECT_TRUE(pipeline.snapshot().healthy);
}

TEST(ApiServer, ApiDownKeepsTheLastGoodPeersThenRecovers) {
  START_SERVER(server);
  Pipeline pipeline(config_from(server));
  ASSERT_GE(wait_until([&] { return pipeline.peers()->peers.size() == 5; }), 0) << pipeline.logs();
  ASSERT_TRUE(wait_watching(server)) << pipeline.logs();
  ASSERT_TRUE(server.admin("/fault/down", R"({"seconds": 1.5, "mode": "refuse"})")["ok"]);
  ASSERT_GE(wait_until([&] { return !pipeline.snapshot().healthy; }), 0) << pipeline.logs();
  WatcherSnapshot down = pipeline.snapshot();
  EXPECT_GE(down.errors["connect"], 1u);
  // Refused, or reset mid-handshake when the listener closes: both are connection errors.
  EXPECT_NE(down.last_error.find(server.url()), std::string::npos) << down.last_error;
  EXPECT_EQ(down.errors["tls"], 0u) << down.last_error;
  EXPECT_EQ(pipeline.peers()->peers.size(), 5u) << "peers must survive an API outage";
  EXPECT_EQ(down.node_count, 6u);

  double back = wait_until([&] { return pipeline.snapshot().healthy; }, 10000ms);
  ASSERT_GE(back, 0) << pipeline.logs();
  EXPECT_NE(pipeline.logs().find("Kubernetes API reachable again"), std::string::npos);
  // Resumed from the last version: still one list.
  EXPECT_EQ(server.client_stats()["list"], 1);

  // Garbage instead of a watch stream is a decode error, then recovery.
  ASSERT_TRUE(server.admin("/fault/garbage", R"({"count": 1, "mode": "json"})")["ok"]);
  ASSERT_TRUE(server.admin("/watches/drop", R"({"mode":"close"})")["ok"]);
  ASSERT_GE(wait_until([&] { return pipeline.snapshot().errors["decode"] >= 1; }), 0)
      << pipeline.logs();
  ASSERT_GE(wait_until([&] { return pipeline.snapshot().healthy; }), 0) << pipeline.logs();
  ASSERT_TRUE(server.admin("/nodes/add", R"({"count": 1})")["ok"]);
  EXPECT_GE(wait_until([&] { return pipeline.has_peer("k3s-node-00000"); }), 0);
}

TEST(ApiServer, WatchWhoseAnswerNeverComesTimesOut) {
  START_SERVER(server);
  Pipeline pipeline(config_from(server), 1500ms);
  ASSERT_GE(wait_until([&] { return pipeline.peers()->peers.size() == 5; }), 0) << pipeline.logs();
  ASSERT_TRUE(wait_watching(server)) << pipeline.logs();
  // The server accepts the next watch and holds its answer far beyond the request timeout,
  // as a hung API server would; a watch stream may stay silent for minutes, its headers not.
  ASSERT_TRUE(server.admin("/fault/delay", R"({"seconds": 6})")["ok"]);
  ASSERT_TRUE(server.admin("/watches/drop", R"({"mode":"reset"})")["ok"]);
  double noticed = wait_until([&] { return !pipeline.snapshot().healthy; }, 5000ms);
  ASSERT_GE(noticed, 0) << "a hung watch request still counts as healthy\n" << pipeline.logs();
  WatcherSnapshot hung = pipeline.snapshot();
  EXPECT_GE(hung.errors["timeout"], 1u);
  EXPECT_NE(hung.last_error.find("did not answer in time"), std::string::npos) << hung.last_error;
  EXPECT_EQ(pipeline.peers()->peers.size(), 5u) << "peers must survive a hung API";

  ASSERT_TRUE(server.admin("/fault/clear", "")["ok"]);
  EXPECT_GE(wait_until([&] { return pipeline.snapshot().healthy; }, 5000ms), 0) << pipeline.logs();
  EXPECT_EQ(server.client_stats()["list"], 1) << "a timed-out watch resumes, it does not re-list";
  std::cout << "[ measure  ] hung watch noticed after " << noticed
            << " s (request timeout 1.5 s)\n";
}

TEST(ApiServer, InClusterTokenIsReReadWhenItRotates) {
  const std::string sa = std::filesystem::temp_directory_path() / "podpath-sa-test";
  std::filesystem::create_directories(sa);
  write_file(sa + "/accepted", "first-token\n");
  START_SERVER(server, std::vector<std::string>{"--token-file", sa + "/accepted"});
  std::filesystem::copy_file(server.state_dir() + "/ca.crt", sa + "/ca.crt",
                             std::filesystem::copy_options::overwrite_existing);
  write_file(sa + "/token", "first-token\n");
  auto port = server.url().substr(server.url().rfind(':') + 1);
  auto config = in_cluster_config("127.0.0.1", port, sa);
  ASSERT_TRUE(config);
  Pipeline pipeline(*config);
  ASSERT_GE(wait_until([&] { return pipeline.peers()->peers.size() == 5; }), 0) << pipeline.logs();
  ASSERT_TRUE(wait_watching(server)) << pipeline.logs();

  // The server now accepts only the new token; the exporter still holds the old one.
  write_file(sa + "/accepted", "second-token\n");
  ASSERT_TRUE(server.admin("/watches/drop", R"({"mode":"close"})")["ok"]);
  ASSERT_GE(wait_until([&] { return pipeline.snapshot().errors["unauthorized"] >= 1; }), 0)
      << pipeline.logs();
  EXPECT_NE(pipeline.snapshot().last_error.find("HTTP 401"), std::string::npos)
      << pipeline.snapshot().last_error;
  // kubelet rotates the projected token file: the next retry reads it.
  write_file(sa + "/token", "second-token\n");
  ASSERT_GE(wait_until([&] { return pipeline.snapshot().healthy; }), 0) << pipeline.logs();
  ASSERT_TRUE(server.admin("/nodes/add", R"({"count": 1})")["ok"]);
  EXPECT_GE(wait_until([&] { return pipeline.has_peer("k3s-node-00000"); }), 0);
  std::filesystem::remove_all(sa);
}

TEST(ApiServer, WrongCaIsReportedAsATlsError) {
  START_SERVER(server);
  // A CA that did not sign the server's certificate.
  const std::string dir = server.state_dir();
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=not-the-cluster-ca -keyout " +
      dir + "/other.key -out " + dir + "/other.crt 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl failed";
  ApiConfig config = config_from(server);
  config.ca_pem = slurp(dir + "/other.crt");
  Pipeline pipeline(config);
  ASSERT_GE(wait_until([&] { return pipeline.snapshot().errors["tls"] >= 1; }), 0)
      << pipeline.logs();
  WatcherSnapshot s = pipeline.snapshot();
  EXPECT_FALSE(s.synced);
  EXPECT_FALSE(s.healthy);
  EXPECT_NE(s.last_error.find("TLS: the certificate of " + server.url() +
                              " is not trusted by the CA from kubeconfig"),
            std::string::npos)
      << s.last_error;
  EXPECT_TRUE(pipeline.peers()->peers.empty());
}

}  // namespace
}  // namespace podpath::kubernetes
