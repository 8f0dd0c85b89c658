// podpath-exporter: wires the modules, the metrics core and the HTTP server together.
#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include "analysis/module.h"
#include "app/modules.h"
#include "app/web.h"
#include "base/clock.h"
#include "base/logger.h"
#include "http/basic_auth.h"
#include "http/server.h"
#include "http/web_config_watcher.h"
#include "metrics/scraper.h"
#include "model/peer.h"
#include "module/module.h"
#include "report/render.h"
#include "self/identity_collector.h"
#include "self/process_collector.h"
#include "version.h"

namespace {

using podpath::module::ConfigError;

std::string default_node_name() {
  if (const char* env = std::getenv("NODE_NAME"); env != nullptr && *env != '\0') return env;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) return host;
  return "unknown";
}

// Past --duration the doctor keeps probing, at most this much longer, while some peer has
// too few probes for its loss and latency to be judged, or its first path MTU search is
// still running. At the default 1 s probe interval a 5 s burst often holds only 4 finished
// probes (one more is in flight), one short of the verdict's 5, and an unreachable peer went
// unreported (seen in the lab's no-subnet-routes). A search over a path that drops large
// probes silently waits out two 1 s timeouts per failing size: about 13 s in the lab's
// mtu-blackhole, where the doctor used to report before it had an answer.
constexpr double kDoctorMaxExtraSeconds = 20;

// `podpath-exporter doctor`: waits for a probe burst, collects once more (the analysis runs
// last and sees this collection), and prints the report.
int run_doctor(podpath::metrics::Scraper& scraper, const podpath::module::Services& services,
               double seconds, bool json) {
  const bool terminal = isatty(STDERR_FILENO) == 1;
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (terminal) {
      auto left = std::chrono::duration<double>(until - std::chrono::steady_clock::now()).count();
      std::cerr << fmt::format("\rprobing peers... {:.0f} s ", left + 0.5) << std::flush;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (terminal) std::cerr << "\r                                \r";
  scraper.scrape(podpath::metrics::Scraper::Clock::now() + std::chrono::seconds(10));
  auto reporter = services.find<podpath::analysis::Reporter>();
  auto report = reporter ? reporter->latest() : nullptr;
  // --duration 0 asks for the report at once.
  const auto last_chance =
      until + std::chrono::milliseconds(static_cast<long long>(kDoctorMaxExtraSeconds * 1000));
  while (seconds > 0 && report && report->awaiting_probes() &&
         std::chrono::steady_clock::now() < last_chance) {
    if (terminal) std::cerr << "\rwaiting for the last probes... " << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    scraper.scrape(podpath::metrics::Scraper::Clock::now() + std::chrono::seconds(10));
    report = reporter->latest();
  }
  if (terminal) std::cerr << "\r                                \r";
  if (!report) {
    std::cerr << "podpath-exporter doctor: no report: the analysis collector is disabled "
                 "(remove --no-collector.analysis)\n";
    return 2;
  }
  std::cout << (json ? podpath::analysis::render_json(*report)
                     : podpath::analysis::render_text(*report, isatty(STDOUT_FILENO) == 1));
  return report->has_critical() ? 1 : 0;
}

int run(int argc, char** argv) {
  const std::string version = PODPATH_VERSION;
  CLI::App app{
      "podpath-exporter: tells whether every pod-to-pod path of a k3s/flannel cluster works, how "
      "fast it is, and which road it takes.",
      "podpath-exporter"};
  app.set_version_flag("--version",
                       fmt::format("podpath-exporter {} (revision {})", version, PODPATH_REVISION));
  app.get_formatter()->column_width(44);

  std::vector<std::string> listen_addresses{":18472"};
  std::string telemetry_path = "/metrics";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string node_name;
  double default_timeout_seconds = 10;
  double timeout_offset_seconds = 0.5;
  app.add_option("--web.listen-address", listen_addresses,
                 "Address to listen on for the web interface and telemetry (repeatable).")
      ->capture_default_str();
  app.add_option("--web.telemetry-path", telemetry_path, "Path under which to expose metrics.")
      ->capture_default_str();
  app.add_option("--log.level", log_level, "Only log messages with the given severity or above.")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log.format", log_format, "Output format of log messages.")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();
  app.add_option("--node-name", node_name,
                 "This node's Kubernetes name (default: $NODE_NAME, else the hostname).");
  app.add_option("--scrape.default-timeout", default_timeout_seconds,
                 "Scrape budget in seconds when Prometheus sends no timeout header.")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--scrape.timeout-offset", timeout_offset_seconds,
                 "Seconds subtracted from Prometheus' scrape timeout so the answer is in time.")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  std::string web_config_file;
  double web_config_reload_seconds = 5;
  podpath::http::ServerOptions server_options;
  double read_timeout_seconds = 10;
  double write_timeout_seconds = 10;
  double idle_timeout_seconds = 60;
  app.add_option("--web.config.file", web_config_file,
                 "Path to a web configuration file (exporter-toolkit format) for TLS, client "
                 "certificates, basic auth and response headers; re-read when it changes.");
  app.add_option("--web.config.reload-interval", web_config_reload_seconds,
                 "Seconds between checks of --web.config.file and the files it names.")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--web.max-connections", server_options.max_connections,
                 "Open HTTP connections at most; further ones wait in the listen backlog.")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--web.max-threads", server_options.worker_threads,
                 "Requests handled at once; further requests wait in their connections.")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--web.read-timeout", read_timeout_seconds,
                 "Seconds a new connection has to deliver its request headers (TLS handshake "
                 "included).")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--web.write-timeout", write_timeout_seconds,
                 "Seconds a client has to read the whole response.")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--web.idle-timeout", idle_timeout_seconds,
                 "Seconds a keep-alive connection has to bring its next request.")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--web.max-header-bytes", server_options.max_header_bytes,
                 "Largest request line plus headers; larger requests get 431.")
      ->check(CLI::Range(1024, 1048576))
      ->capture_default_str();

  CLI::App* doctor = app.add_subcommand(
      "doctor",
      "Run every collector once plus a short probe burst and print this node's report: its "
      "flannel identity, the device chain, every peer's road, RTT, loss and path MTU, and the "
      "findings. Exits 1 when a critical finding exists.");
  doctor->fallthrough();  // the exporter's flags may follow "doctor"
  std::string doctor_output = "text";
  double doctor_seconds = 5;
  doctor->add_option("--output", doctor_output, "Report format.")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  doctor
      ->add_option("--duration", doctor_seconds,
                   "Seconds of probing before the report; up to 20 s more while a peer has too "
                   "few probes for its loss and latency to be judged, or its path MTU search "
                   "has not finished (0: report at once).")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();

  auto modules = podpath::app::all_modules();
  std::map<std::string, bool> enabled;
  for (auto& module : modules) {
    bool& on = enabled[module->name()] = module->enabled_by_default();
    app.add_flag(fmt::format("--collector.{0},!--no-collector.{0}", module->name()), on,
                 fmt::format("Enable the {} collector: {} (default: {}).", module->name(),
                             module->description(), on ? "on" : "off"));
    module->add_flags(app);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming the problem and the fix, as the flag conventions promise.
    std::cerr << "podpath-exporter: " << e.what()
              << " (run podpath-exporter --help for the flags)\n";
    return 2;
  }

  podpath::base::Logger log(*podpath::base::parse_log_level(log_level),
                            *podpath::base::parse_log_format(log_format));
  if (node_name.empty()) node_name = default_node_name();

  for (const auto& text : listen_addresses) {
    auto [address, error] = podpath::http::parse_listen_address(text);
    if (!address) {
      std::cerr << "podpath-exporter: --web.listen-address: " << error << "\n";
      return 2;
    }
    server_options.listen.push_back(*address);
  }
  // A taken port is the most common start-up error: report it before any module starts
  // (and logs), so the user sees one line. `doctor` serves nothing, so it may run beside
  // the exporter.
  for (const auto& address :
       doctor->parsed() ? decltype(server_options.listen){} : server_options.listen) {
    if (auto error = podpath::http::check_listen_address(address); !error.empty()) {
      std::cerr << "podpath-exporter: " << error << "\n";
      return 1;
    }
  }
  if (telemetry_path.empty() || telemetry_path[0] != '/' || telemetry_path == "/" ||
      telemetry_path.starts_with("/-/")) {
    std::cerr << "podpath-exporter: --web.telemetry-path \"" << telemetry_path
              << "\" must start with '/' and not be '/' or under '/-/'; e.g. /metrics\n";
    return 2;
  }
  auto seconds = [](double s) {
    return std::chrono::milliseconds(static_cast<long long>(s * 1000));
  };
  server_options.read_timeout = seconds(read_timeout_seconds);
  server_options.write_timeout = seconds(write_timeout_seconds);
  server_options.idle_timeout = seconds(idle_timeout_seconds);

  std::unique_ptr<podpath::http::WebConfigWatcher> web_config;
  if (!web_config_file.empty()) {
    podpath::http::WebConfigWatcher::Options watch;
    watch.path = web_config_file;
    watch.now_unix = podpath::base::unix_now;
    watch.on_rejected = [&log](const std::string& error) {
      log.error("web config reload refused", {{"err", error}});
    };
    watch.on_applied = [&log, web_config_file] {
      log.info("web config reloaded", {{"file", web_config_file}});
    };
    web_config = std::make_unique<podpath::http::WebConfigWatcher>(std::move(watch));
    if (auto error = web_config->load(); !error.empty()) {
      std::cerr << "podpath-exporter: " << error << "\n";
      return 2;
    }
    server_options.tls = web_config->tls_source();
  }

  // Signals are handled by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  podpath::model::PeerRegistry peers(node_name);
  podpath::metrics::Scraper scraper;
  scraper.add(std::make_shared<podpath::self::IdentityCollector>(
      podpath::self::Identity{version, PODPATH_REVISION, node_name},
      [&peers] { return peers.current()->self_group; }));
  scraper.add(std::make_shared<podpath::self::ProcessCollector>());
  if (web_config) scraper.add(web_config->collector());

  const bool doctor_mode = doctor->parsed();
  podpath::module::ModuleContext context{node_name, log, peers, {}};
  // The doctor wants every peer's first path MTU search started within its burst, not
  // spread over the exporter's 10 s.
  if (doctor_mode)
    context.first_results_within =
        std::chrono::milliseconds(static_cast<long long>(doctor_seconds * 500));
  std::vector<podpath::module::Module*> started;
  auto stop_modules = [&] {
    for (auto it = started.rbegin(); it != started.rend(); ++it) (*it)->stop();
  };
  for (auto& module : modules) {
    if (!enabled[module->name()]) {
      log.info("collector disabled", {{"collector", module->name()}});
      continue;
    }
    try {
      for (auto& collector : module->start(context)) scraper.add(std::move(collector));
      started.push_back(module.get());
    } catch (const ConfigError& e) {
      std::cerr << "podpath-exporter: " << e.what() << "\n";
      stop_modules();
      return 2;
    }
  }

  // A first collection right away publishes the kernel's view of the peers (kernel-only
  // mode) so the prober starts probing without waiting for Prometheus' first scrape.
  scraper.scrape(podpath::metrics::Scraper::Clock::now() + std::chrono::seconds(5));

  if (doctor_mode) {
    int code = run_doctor(scraper, context.services, doctor_seconds, doctor_output == "json");
    stop_modules();
    return code;
  }

  podpath::app::WebOptions web_options;
  web_options.telemetry_path = telemetry_path;
  web_options.default_scrape_timeout =
      std::chrono::milliseconds(static_cast<long long>(default_timeout_seconds * 1000));
  web_options.timeout_offset =
      std::chrono::milliseconds(static_cast<long long>(timeout_offset_seconds * 1000));
  web_options.node_name = node_name;
  web_options.version = version;
  podpath::app::Web web(web_options, scraper, log);
  web.set_status_page(context.services.find<podpath::app::StatusPage>());

  // Every path sits behind the web config's basic auth and headers, as in exporter-toolkit.
  podpath::http::BasicAuth basic_auth;
  const podpath::http::AccessPolicy open_policy;
  podpath::http::Handler inner = [&web](const podpath::http::Request& r) { return web.handle(r); };
  auto server = podpath::http::make_server();
  if (auto error = server->start(server_options,
                                 [&](const podpath::http::Request& r) {
                                   auto active = web_config ? web_config->current() : nullptr;
                                   return podpath::http::guard(
                                       active ? active->policy : open_policy, basic_auth, r, inner);
                                 });
      !error.empty()) {
    std::cerr << "podpath-exporter: " << error << "\n";
    stop_modules();
    return 1;
  }
  web.set_ready(true);
  if (web_config) web_config->start(seconds(web_config_reload_seconds));
  std::string where;
  auto ports = server->ports();
  for (size_t i = 0; i < server_options.listen.size(); ++i) {
    const auto& address = server_options.listen[i];
    int port = i < ports.size() ? ports[i] : address.port;
    if (!where.empty()) where += ' ';
    where += fmt::format("{}://{}:{}{}", server_options.tls ? "https" : "http",
                         address.host.empty() ? "0.0.0.0" : address.host, port, telemetry_path);
  }
  log.info("podpath-exporter listening",
           {{"node", node_name}, {"version", version}, {"metrics", where}});

  int received = 0;
  sigwait(&signals, &received);
  log.info("shutting down", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
  web.set_ready(false);
  if (web_config) web_config->stop();
  server->stop();
  stop_modules();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Collectors run on short-lived threads; two malloc arenas instead of glibc's 8 per core
  // keep their freed memory in few places that malloc_trim() can return (see app/web.cc).
  mallopt(M_ARENA_MAX, 2);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "podpath-exporter: fatal: " << e.what() << "\n";
    return 1;
  }
}
