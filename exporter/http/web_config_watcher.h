// Keeps --web.config.file in force: loads it at start, re-reads it (and the certificate,
// key and CA files it names) every few seconds, applies a changed valid version and keeps
// the previous one when the new one is broken, reporting that as an error and as
// podpath_web_config_last_reload_successful 0.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/basic_auth.h"
#include "http/web_config.h"
#include "metrics/collector.h"

namespace podpath::http {

struct ActiveWebConfig {
  WebConfig config;
  std::shared_ptr<const TlsSettings> tls;  // null: plain HTTP
  AccessPolicy policy;
};

class WebConfigWatcher {
 public:
  struct Options {
    std::string path;
    ReadFile read = [](const std::string& path) { return base::read_file(path); };
    std::function<double()> now_unix;                           // wall clock, for the metric
    std::function<void(const std::string& error)> on_rejected;  // once per distinct problem
    std::function<void()> on_applied;                           // after a successful reload
  };
  explicit WebConfigWatcher(Options options);
  ~WebConfigWatcher();
  WebConfigWatcher(const WebConfigWatcher&) = delete;
  WebConfigWatcher& operator=(const WebConfigWatcher&) = delete;

  // The first load; an error here is a start-up error (one line naming the flag).
  std::string load();

  enum class Reload { kUnchanged, kApplied, kRejected };
  Reload reload();

  std::shared_ptr<const ActiveWebConfig> current() const;
  // For ServerOptions::tls; empty when the config serves plain HTTP.
  TlsSource tls_source();

  void start(std::chrono::milliseconds interval);
  void stop();

  // podpath_web_config_last_reload_successful and ..._success_timestamp_seconds.
  std::shared_ptr<metrics::Collector> collector();

 private:
  struct Loaded {
    std::shared_ptr<const ActiveWebConfig> config;
    std::string error;
  };
  Loaded read_config() const;

  Options options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const ActiveWebConfig> current_;  // guarded by mutex_
  std::string last_error_;                          // guarded by mutex_; empty after success
  bool last_successful_ = false;                    // guarded by mutex_
  double last_success_unix_ = 0;                    // guarded by mutex_

  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by thread_mutex_
  std::thread thread_;
};

}  // namespace podpath::http
