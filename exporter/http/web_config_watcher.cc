#include "http/web_config_watcher.h"

#include <fmt/format.h>

#include <cstring>

namespace podpath::http {
namespace {

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool same(const ActiveWebConfig& a, const ActiveWebConfig& b) {
  if (!(a.config == b.config)) return false;
  if (static_cast<bool>(a.tls) != static_cast<bool>(b.tls)) return false;
  return !a.tls || *a.tls == *b.tls;
}

class ReloadCollector final : public metrics::Collector {
 public:
  using Read = std::function<std::pair<bool, double>()>;
  explicit ReloadCollector(Read read) : read_(std::move(read)) {}
  std::string name() const override { return "web_config"; }
  metrics::CollectResult collect() override {
    auto [successful, when] = read_();
    metrics::CollectResult result;
    result.families.push_back(
        metrics::MetricFamily("podpath_web_config_last_reload_successful",
                              "1 if the last change of --web.config.file (or of the files it "
                              "names) was applied, 0 if it was refused and the previous "
                              "configuration stays in force.",
                              metrics::MetricType::kGauge)
            .add({}, successful ? 1 : 0));
    result.families.push_back(
        metrics::MetricFamily("podpath_web_config_last_reload_success_timestamp_seconds",
                              "When --web.config.file was last loaded successfully, in Unix "
                              "seconds.",
                              metrics::MetricType::kGauge)
            .add({}, when));
    return result;
  }

 private:
  Read read_;
};

}  // namespace

WebConfigWatcher::WebConfigWatcher(Options options) : options_(std::move(options)) {}

WebConfigWatcher::~WebConfigWatcher() {
  stop();
}

WebConfigWatcher::Loaded WebConfigWatcher::read_config() const {
  auto file = options_.read(options_.path);
  if (!file.ok()) return {nullptr, fmt::format("cannot read it: {}", std::strerror(file.error))};
  auto parsed = parse_web_config(*file.bytes, directory_of(options_.path));
  if (!parsed) return {nullptr, parsed.error()};
  auto active = std::make_shared<ActiveWebConfig>();
  active->config = std::move(*parsed);
  if (active->config.tls) {
    auto [tls, error] = load_tls_settings(*active->config.tls, options_.read);
    if (!tls) return {nullptr, error};
    active->tls = std::move(tls);
  }
  active->policy = AccessPolicy{active->config.headers, active->config.users};
  return {active, {}};
}

std::string WebConfigWatcher::load() {
  auto loaded = read_config();
  if (!loaded.config) return fmt::format("--web.config.file {}: {}", options_.path, loaded.error);
  std::lock_guard lock(mutex_);
  current_ = std::move(loaded.config);
  last_successful_ = true;
  last_success_unix_ = options_.now_unix ? options_.now_unix() : 0;
  return {};
}

WebConfigWatcher::Reload WebConfigWatcher::reload() {
  auto loaded = read_config();
  std::unique_lock lock(mutex_);
  if (loaded.config && current_ &&
      static_cast<bool>(loaded.config->tls) != static_cast<bool>(current_->tls))
    loaded = {nullptr, current_->tls ? "tls_server_config was removed; switching from HTTPS to "
                                       "HTTP needs a restart of podpath-exporter"
                                     : "tls_server_config was added; switching from HTTP to "
                                       "HTTPS needs a restart of podpath-exporter"};
  if (!loaded.config) {
    last_successful_ = false;
    if (loaded.error == last_error_) return Reload::kUnchanged;  // reported already
    last_error_ = loaded.error;
    lock.unlock();
    if (options_.on_rejected)
      options_.on_rejected(
          fmt::format("--web.config.file {}: {}; keeping the previous "
                      "configuration",
                      options_.path, loaded.error));
    return Reload::kRejected;
  }
  last_error_.clear();
  if (current_ && same(*current_, *loaded.config)) {
    last_successful_ = true;
    return Reload::kUnchanged;
  }
  current_ = std::move(loaded.config);
  last_successful_ = true;
  last_success_unix_ = options_.now_unix ? options_.now_unix() : 0;
  lock.unlock();
  if (options_.on_applied) options_.on_applied();
  return Reload::kApplied;
}

std::shared_ptr<const ActiveWebConfig> WebConfigWatcher::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

TlsSource WebConfigWatcher::tls_source() {
  auto now = current();
  if (!now || !now->tls) return {};
  return [this] {
    auto active = current();
    return active ? active->tls : nullptr;
  };
}

void WebConfigWatcher::start(std::chrono::milliseconds interval) {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this, interval] {
    std::unique_lock lock(thread_mutex_);
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      reload();
      lock.lock();
    }
  });
}

void WebConfigWatcher::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<metrics::Collector> WebConfigWatcher::collector() {
  return std::make_shared<ReloadCollector>([this] {
    std::lock_guard lock(mutex_);
    return std::make_pair(last_successful_, last_success_unix_);
  });
}

}  // namespace podpath::http
