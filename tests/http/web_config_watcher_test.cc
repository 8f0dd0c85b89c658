#include "http/web_config_watcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace podpath::http {
namespace {

namespace fs = std::filesystem;
const fs::path kTls = fs::path(PODPATH_TESTDATA) / "http/testdata/tls";
const std::string kHash = "$2b$05$CfxDBBn/vk/9jrU7ispKWO460tIuqWqHXtwzR0bsHK2ZYNTSRKLBq";

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/podpath-webconfig-XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
  }
  fs::path path;
};

double gauge(metrics::Collector& collector, const std::string& name) {
  for (const auto& family : collector.collect().families)
    if (family.name == name) return family.metrics.at(0).value;
  ADD_FAILURE() << name << " missing";
  return -1;
}

struct Fixture {
  Fixture() {
    for (const char* file : {"server.crt", "server.key", "client.crt", "client.key", "ca.crt"})
      fs::copy_file(kTls / file, dir.path / file);
    WebConfigWatcher::Options options;
    options.path = (dir.path / "web.yml").string();
    options.now_unix = [this] { return now; };
    options.on_rejected = [this](const std::string& error) { rejected.push_back(error); };
    options.on_applied = [this] { ++applied; };
    watcher = std::make_unique<WebConfigWatcher>(options);
  }
  TempDir dir;
  double now = 1000;
  std::vector<std::string> rejected;
  int applied = 0;
  std::unique_ptr<WebConfigWatcher> watcher;
};

const std::string kTlsConfig =
    "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
    "basic_auth_users:\n  prometheus: " +
    kHash + "\n";

TEST(WebConfigWatcher, StartupErrorsNameTheFlag) {
  Fixture f;
  EXPECT_EQ(f.watcher->load(), "--web.config.file " + (f.dir.path / "web.yml").string() +
                                   ": cannot read it: No such file or directory");
  f.dir.write("web.yml", "tls_server_config:\n  key_file: server.key\n");
  EXPECT_EQ(f.watcher->load(), "--web.config.file " + (f.dir.path / "web.yml").string() +
                                   ": tls_server_config: missing one of cert or cert_file");
}

TEST(WebConfigWatcher, BrokenReloadKeepsThePreviousConfig) {
  Fixture f;
  f.dir.write("web.yml", kTlsConfig);
  ASSERT_EQ(f.watcher->load(), "");
  auto collector = f.watcher->collector();
  EXPECT_EQ(gauge(*collector, "podpath_web_config_last_reload_successful"), 1);
  EXPECT_EQ(gauge(*collector, "podpath_web_config_last_reload_success_timestamp_seconds"), 1000);
  auto first = f.watcher->current();
  ASSERT_TRUE(first->tls);
  EXPECT_EQ(first->policy.users.size(), 1u);
  auto source = f.watcher->tls_source();
  ASSERT_TRUE(source);
  EXPECT_EQ(source(), first->tls);

  f.now = 1005;
  EXPECT_EQ(f.watcher->reload(), WebConfigWatcher::Reload::kUnchanged);
  EXPECT_EQ(f.applied, 0);

  f.dir.write("web.yml", kTlsConfig + "rate_limit: {}\n");
  EXPECT_EQ(f.watcher->reload(), WebConfigWatcher::Reload::kRejected);
  EXPECT_EQ(f.watcher->current(), first);  // still in force
  EXPECT_EQ(gauge(*collector, "podpath_web_config_last_reload_successful"), 0);
  EXPECT_EQ(gauge(*collector, "podpath_web_config_last_reload_success_timestamp_seconds"), 1000);
  ASSERT_EQ(f.rejected.size(), 1u);
  EXPECT_NE(f.rejected[0].find("line 6: rate_limit is not supported"), std::string::npos)
      << f.rejected[0];
  EXPECT_NE(f.rejected[0].find("keeping the previous configuration"), std::string::npos);
  // The same problem is reported once, not at every poll.
  EXPECT_EQ(f.watcher->reload(), WebConfigWatcher::Reload::kUnchanged);
  EXPECT_EQ(f.rejected.size(), 1u);
  EXPECT_EQ(gauge(*collector, "podpath_web_config_last_reload_successful"), 0);

  f.now = 1010;
  f.dir.write("web.yml",
              kTlsConfig + "http_server_config:\n  headers:\n    X-Frame-Options: deny\n");
  EXPECT_EQ(f.watcher->reload(), WebConfigWatcher::Reload::kApplied);
  EXPECT_EQ(f.applied, 1);
  EXPECT_EQ(f.watcher->current()->policy.headers.at("X-Frame-Options"), "deny");
  EXPECT_EQ(gauge(*collector, "podpath_web_config_last_reload_successful"), 1);
  EXPECT_EQ(gauge(*collector, "podpath_web_config_last_reload_success_timestamp_seconds"), 1010);
}

TEST(WebConfigWatcher, RotatedCertificateIsPickedUpAndABrokenOneRefused) {
  Fixture f;
  f.dir.write("web.yml", kTlsConfig);
  ASSERT_EQ(f.watcher->load(), "");
  auto source = f.watcher->tls_source();
  auto before = source();
  // A half-written rotation (certificate of another key) is refused...
  fs::copy_file(kTls / "client.crt", f.dir.path / "server.crt",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(f.watcher->reload(), WebConfigWatcher::Reload::kRejected);
  EXPECT_EQ(source(), before);
  ASSERT_EQ(f.rejected.size(), 1u);
  EXPECT_NE(f.rejected[0].find("the key does not belong to the certificate"), std::string::npos);
  // ...and the completed one (key too) applied; the server sees it at the next connection.
  fs::copy_file(kTls / "client.key", f.dir.path / "server.key",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(f.watcher->reload(), WebConfigWatcher::Reload::kApplied);
  EXPECT_NE(source(), before);
  EXPECT_NE(source()->cert_pem, before->cert_pem);
}

TEST(WebConfigWatcher, SwitchingBetweenHttpAndHttpsNeedsARestart) {
  Fixture f;
  f.dir.write("web.yml", "basic_auth_users:\n  prometheus: " + kHash + "\n");
  ASSERT_EQ(f.watcher->load(), "");
  EXPECT_FALSE(f.watcher->tls_source());
  f.dir.write("web.yml", kTlsConfig);
  EXPECT_EQ(f.watcher->reload(), WebConfigWatcher::Reload::kRejected);
  ASSERT_EQ(f.rejected.size(), 1u);
  EXPECT_NE(f.rejected[0].find("switching from HTTP to HTTPS needs a restart"), std::string::npos);
  EXPECT_FALSE(f.watcher->current()->tls);
}

TEST(WebConfigWatcher, PollingThreadAppliesChanges) {
  Fixture f;
  f.dir.write("web.yml", "");
  ASSERT_EQ(f.watcher->load(), "");
  f.watcher->start(std::chrono::milliseconds(20));
  f.dir.write("web.yml", "basic_auth_users:\n  prometheus: " + kHash + "\n");
  for (int i = 0; i < 200 && f.watcher->current()->policy.users.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  f.watcher->stop();
  EXPECT_EQ(f.watcher->current()->policy.users.size(), 1u);
}

}  // namespace
}  // namespace podpath::http
