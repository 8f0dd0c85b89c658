// podpath-exporter: parses the command line and wires the modules, the metrics core and the
// HTTP server together. What each piece does is in its own folder (docs/architecture.md).
#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "app/doctor.h"
#include "app/flags.h"
#include "app/modules.h"
#include "app/web.h"
#include "base/clock.h"
#include "http/basic_auth.h"
#include "http/web_config_watcher.h"
#include "self/identity_collector.h"
#include "self/process_collector.h"
#include "version.h"

namespace {

using namespace podpath;

int fail(int code, const std::string& message) {
  std::cerr << "podpath-exporter: " << message << "\n";
  return code;
}

// -1 to go on, else the exit code (help, version, or a bad flag: one line naming it).
int parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(2, std::string(e.what()) + " (run podpath-exporter --help for the flags)");
  }
  return -1;
}

std::unique_ptr<http::WebConfigWatcher> web_config_watcher(const app::ExporterFlags& flags,
                                                           base::Logger& log) {
  http::WebConfigWatcher::Options watch;
  watch.path = flags.web_config_file;
  watch.now_unix = base::unix_now;
  watch.on_rejected = [&log](const std::string& error) {
    log.error("web config reload refused", {{"err", error}});
  };
  watch.on_applied = [&log, path = flags.web_config_file] {
    log.info("web config reloaded", {{"file", path}});
  };
  return std::make_unique<http::WebConfigWatcher>(std::move(watch));
}

// Serves until SIGINT or SIGTERM (blocked in every thread, taken here by sigwait).
int serve(const app::ExporterSettings& settings, const sigset_t& signals, base::Logger& log,
          metrics::Scraper& scraper, app::Modules& modules, http::WebConfigWatcher* web_config,
          std::chrono::nanoseconds reload_interval) {
  app::Web web(settings.web, scraper, log);
  web.set_status_page(modules.reporter());
  // Every path sits behind the web config's basic auth and headers, as in exporter-toolkit.
  http::BasicAuth basic_auth;
  const http::AccessPolicy open_policy;
  http::Handler inner = [&web](const http::Request& r) { return web.handle(r); };
  auto server = http::make_server();
  if (auto error = server->start(settings.server,
                                 [&](const http::Request& r) {
                                   auto active = web_config ? web_config->current() : nullptr;
                                   return http::guard(active ? active->policy : open_policy,
                                                      basic_auth, r, inner);
                                 });
      !error)
    return fail(1, error.error());
  web.set_ready(true);
  if (web_config)
    web_config->start(std::chrono::duration_cast<std::chrono::milliseconds>(reload_interval));
  // Says once when the flags allow a scrape beyond issue #17's budget (metrics/budget.h).
  const auto& budget = settings.web.series_budget;
  if (budget.max_series == 0 || budget.max_series > app::kSeriesBudget || budget.max_bytes == 0 ||
      budget.max_bytes > app::kBytesBudget)
    log.warn(
        "--metrics.max-series or --metrics.max-bytes allow a scrape beyond the budget of "
        "1500 series and 150000 bytes per node (0 is no limit)",
        {{"max_series", std::to_string(budget.max_series)},
         {"max_bytes", std::to_string(budget.max_bytes)}});
  log.info("podpath-exporter listening",
           {{"node", settings.node_name},
            {"version", settings.web.version},
            {"metrics", app::listen_urls(settings, server->ports())}});
  int received = 0;
  sigwait(&signals, &received);
  log.info("shutting down", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
  web.set_ready(false);
  if (web_config) web_config->stop();
  server->stop();
  return 0;
}

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Starts the modules, then runs the doctor or serves; stops the modules before the peer
// registry and the scraper they use go away.
int start_and_run(const app::ExporterFlags& flags, const app::ExporterSettings& settings,
                  const app::DoctorFlags& doctor, app::Modules& modules, base::Logger& log,
                  http::WebConfigWatcher* web_config) {
  // Signals are taken by sigwait in serve(); block them before any thread starts.
  const sigset_t signals = block_stop_signals();
  model::PeerRegistry peers(settings.node_name);
  metrics::Scraper scraper;
  scraper.add(std::make_shared<self::IdentityCollector>(
      self::Identity{PODPATH_VERSION, PODPATH_REVISION, settings.node_name},
      [&peers] { return peers.current()->self_group; }));
  scraper.add(std::make_shared<self::ProcessCollector>());
  if (web_config) scraper.add(web_config->collector());
  app::StartOptions start{settings.node_name, flags.overlay_device, std::chrono::seconds(10)};
  if (doctor.requested()) start.first_results_within = doctor.first_results_within();
  try {
    modules.start(start, log, peers, scraper);
  } catch (const module::ConfigError& e) {
    return fail(2, e.what());
  }
  struct StopModules {
    app::Modules& modules;
    ~StopModules() { modules.stop(); }
  } stop_modules{modules};
  // A first collection right away publishes the kernel's view of the peers (kernel-only
  // mode) so the prober starts probing without waiting for Prometheus' first scrape.
  scraper.scrape(metrics::Scraper::Clock::now() + std::chrono::seconds(5));
  if (doctor.requested()) return app::run_doctor(scraper, modules.reporter(), doctor);
  return serve(settings, signals, log, scraper, modules, web_config, flags.web_config_reload);
}

int run(int argc, char** argv) {
  CLI::App cli{
      "podpath-exporter: tells whether every pod-to-pod path of a k3s/flannel cluster works, how "
      "fast it is, and which road it takes.",
      "podpath-exporter"};
  cli.set_version_flag("--version", fmt::format("podpath-exporter {} (revision {})",
                                                PODPATH_VERSION, PODPATH_REVISION));
  cli.get_formatter()->column_width(44);
  app::ExporterFlags flags;
  flags.add(cli);
  app::DoctorFlags doctor;
  doctor.add(cli);
  app::Modules modules;
  modules.add_flags(cli);
  if (int code = parse(cli, argc, argv); code >= 0) return code;

  app::ExporterSettings settings;
  if (auto error = app::resolve(flags, PODPATH_VERSION, settings); !error.empty())
    return fail(2, error);
  // A taken port is the most common start-up error: report it before any module starts (and
  // logs), so the user sees one line. The doctor serves nothing, so it may run beside the
  // exporter.
  if (!doctor.requested())
    for (const auto& address : settings.server.listen)
      if (auto bindable = http::check_listen_address(address); !bindable)
        return fail(1, bindable.error());
  base::Logger log(settings.log_level, settings.log_format);
  std::unique_ptr<http::WebConfigWatcher> web_config;
  if (!flags.web_config_file.empty()) {
    web_config = web_config_watcher(flags, log);
    if (auto error = web_config->load(); !error.empty()) return fail(2, error);
    settings.server.tls = web_config->tls_source();
  }
  return start_and_run(flags, settings, doctor, modules, log, web_config.get());
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
