// The exporter's own flags, registered the way module flags are: the node's identity, the
// log, the web server (listen addresses, TLS/auth file, limits and deadlines) and the scrape
// budget. Module flags live with their modules.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "app/web.h"
#include "base/logger.h"
#include "http/server.h"

namespace CLI {
class App;
}

namespace podpath::app {

// Issue #17's budget per node: at most this many series, and bytes of text, per scrape
// (metrics/budget.h).
inline constexpr std::size_t kSeriesBudget = 1500;
inline constexpr std::size_t kBytesBudget = 150'000;

struct ExporterFlags {
  std::vector<std::string> listen_addresses{":18472"};
  std::string telemetry_path = "/metrics";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string node_name;  // default: $NODE_NAME, else the hostname
  std::string overlay_device = "flannel.1";
  std::chrono::nanoseconds scrape_default_timeout = std::chrono::seconds(10);
  std::chrono::nanoseconds scrape_timeout_offset = std::chrono::milliseconds(500);
  std::string web_config_file;
  std::chrono::nanoseconds web_config_reload = std::chrono::seconds(5);
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(10);
  std::chrono::nanoseconds write_timeout = std::chrono::seconds(10);
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(60);
  int max_connections = 512;
  int max_threads = 4;
  std::size_t max_header_bytes = 16384;
  std::size_t max_series = kSeriesBudget;
  std::size_t max_bytes = kBytesBudget;

  void add(CLI::App& app);
};

// What the flags become once checked.
struct ExporterSettings {
  std::string node_name;
  base::LogLevel log_level = base::LogLevel::kInfo;
  base::LogFormat log_format = base::LogFormat::kLogfmt;
  http::ServerOptions server;  // without TLS: the web config file adds it
  WebOptions web;
};

// Checks what CLI11 cannot (addresses, the telemetry path) and fills the settings. Returns
// "" or one line naming the flag and the fix (main exits 2).
std::string resolve(const ExporterFlags& flags, const std::string& version,
                    ExporterSettings& settings);

// "http://0.0.0.0:18472/metrics ..." for the start-up log: the bound ports, in the order of
// the listen addresses.
std::string listen_urls(const ExporterSettings& settings, const std::vector<int>& ports);

// $NODE_NAME, else the hostname, else "unknown".
std::string default_node_name();

}  // namespace podpath::app
