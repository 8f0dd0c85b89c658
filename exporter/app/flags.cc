#include "app/flags.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "module/flags.h"

namespace podpath::app {

namespace {

void add_web_flags(CLI::App& app, ExporterFlags& f) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  app.add_option("--web.listen-address", f.listen_addresses,
                 "Address to listen on for the web interface and telemetry (repeatable).")
      ->capture_default_str();
  app.add_option("--web.telemetry-path", f.telemetry_path, "Path under which to expose metrics.")
      ->capture_default_str();
  app.add_option("--web.config.file", f.web_config_file,
                 "Path to a web configuration file (exporter-toolkit format) for TLS, client "
                 "certificates, basic auth and response headers; re-read when it changes.");
  module::add_duration_flag(app, "--web.config.reload-interval", f.web_config_reload,
                            "Time between checks of --web.config.file and the files it names.",
                            {milliseconds(100), hours(1)});
  app.add_option("--web.max-connections", f.max_connections,
                 "Open HTTP connections at most; further ones wait in the listen backlog.")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--web.max-threads", f.max_threads,
                 "Requests handled at once; further requests wait in their connections.")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  module::add_duration_flag(app, "--web.read-timeout", f.read_timeout,
                            "Time a new connection has to deliver its request headers (TLS "
                            "handshake included).",
                            {milliseconds(100), hours(1)});
  module::add_duration_flag(app, "--web.write-timeout", f.write_timeout,
                            "Time a client has to read the whole response.",
                            {milliseconds(100), hours(1)});
  module::add_duration_flag(app, "--web.idle-timeout", f.idle_timeout,
                            "Time a keep-alive connection has to bring its next request.",
                            {milliseconds(100), hours(1)});
  app.add_option("--web.max-header-bytes", f.max_header_bytes,
                 "Largest request line plus headers; larger requests get 431.")
      ->check(CLI::Range(1024, 1048576))
      ->capture_default_str();
}

std::chrono::milliseconds millis(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

}  // namespace

void ExporterFlags::add(CLI::App& app) {
  app.add_option("--log.level", log_level, "Only log messages with the given severity or above.")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log.format", log_format, "Output format of log messages.")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();
  app.add_option("--node-name", node_name,
                 "This node's Kubernetes name (default: $NODE_NAME, else the hostname).");
  app.add_option("--flannel.overlay-device", overlay_device,
                 "flannel's overlay device: its MTU is what pods are told and sizes the path MTU "
                 "probes; its MAC and address are this node's VTEP for the exposure probe.")
      ->capture_default_str();
  module::add_duration_flag(app, "--scrape.default-timeout", scrape_default_timeout,
                            "Scrape budget when Prometheus sends no timeout header.",
                            {std::chrono::milliseconds(100), std::chrono::hours(1)});
  module::add_duration_flag(app, "--scrape.timeout-offset", scrape_timeout_offset,
                            "Subtracted from Prometheus' scrape timeout so the answer is in time.",
                            {std::chrono::nanoseconds(0), std::chrono::minutes(1)});
  app.add_option("--metrics.max-series", max_series,
                 "Series per scrape at most: beyond it a peer keeps only its probe requests "
                 "and responses (and its group's aggregates), probed peers in trouble last "
                 "(0: no budget; docs/metrics/core.md, \"Series budget\").")
      ->capture_default_str();
  app.add_option("--metrics.max-bytes", max_bytes,
                 "Bytes of text exposition per scrape at most, uncompressed, as estimated; "
                 "applied as --metrics.max-series is (0: no limit).")
      ->capture_default_str();
  add_web_flags(app, *this);
}

std::string listen_urls(const ExporterSettings& settings, const std::vector<int>& ports) {
  std::string urls;
  for (std::size_t i = 0; i < settings.server.listen.size(); ++i) {
    const auto& address = settings.server.listen[i];
    const int port = i < ports.size() ? ports[i] : address.port;
    if (!urls.empty()) urls += ' ';
    urls += fmt::format("{}://{}:{}{}", settings.server.tls ? "https" : "http",
                        address.host.empty() ? "0.0.0.0" : address.host, port,
                        settings.web.telemetry_path);
  }
  return urls;
}

std::string default_node_name() {
  if (const char* env = std::getenv("NODE_NAME"); env != nullptr && *env != '\0') return env;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) return host;
  return "unknown";
}

std::string resolve(const ExporterFlags& f, const std::string& version, ExporterSettings& s) {
  s.node_name = f.node_name.empty() ? default_node_name() : f.node_name;
  s.log_level = *base::parse_log_level(f.log_level);  // CLI11 checked the words
  s.log_format = *base::parse_log_format(f.log_format);
  for (const auto& text : f.listen_addresses) {
    auto address = http::parse_listen_address(text);
    if (!address) return "--web.listen-address: " + address.error();
    s.server.listen.push_back(*address);
  }
  const std::string& path = f.telemetry_path;
  if (path.empty() || path[0] != '/' || path == "/" || path.starts_with("/-/"))
    return "--web.telemetry-path \"" + path +
           "\" must start with '/' and not be '/' or under '/-/'; e.g. /metrics";
  s.server.worker_threads = f.max_threads;
  s.server.max_connections = f.max_connections;
  s.server.max_header_bytes = f.max_header_bytes;
  s.server.read_timeout = millis(f.read_timeout);
  s.server.write_timeout = millis(f.write_timeout);
  s.server.idle_timeout = millis(f.idle_timeout);
  s.web.telemetry_path = path;
  s.web.default_scrape_timeout = millis(f.scrape_default_timeout);
  s.web.timeout_offset = millis(f.scrape_timeout_offset);
  s.web.node_name = s.node_name;
  s.web.series_budget = {f.max_series, s.node_name, f.max_bytes};
  s.web.version = version;
  return {};
}

}  // namespace podpath::app
