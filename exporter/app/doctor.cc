#include "app/doctor.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "module/flags.h"
#include "report/render.h"

namespace podpath::app {

namespace {

using Clock = std::chrono::steady_clock;

// Past --duration the doctor keeps probing, at most this much longer, while some peer has
// too few probes for its loss and latency to be judged, or its first path MTU search is
// still running. At the default 1 s probe interval a 5 s burst often holds only 4 finished
// probes (one more is in flight), one short of the verdict's 5, and an unreachable peer went
// unreported (seen in the lab's no-subnet-routes). A search over a path that drops large
// probes silently waits out two 1 s timeouts per failing size: about 13 s in the lab's
// mtu-blackhole, where the doctor used to report before it had an answer.
constexpr std::chrono::seconds kMaxExtraWait{20};

// Overwrites the progress line on a terminal; silent otherwise.
class Progress {
 public:
  Progress() : terminal_(isatty(STDERR_FILENO) == 1) {}
  ~Progress() { clear(); }
  void show(const std::string& text) {
    if (terminal_) std::cerr << "\r" << text << std::flush;
  }
  void clear() {
    if (terminal_) std::cerr << "\r                                \r" << std::flush;
  }

 private:
  bool terminal_;
};

void wait_for_burst(Clock::time_point until) {
  Progress progress;
  while (Clock::now() < until) {
    auto left = std::chrono::duration<double>(until - Clock::now()).count();
    progress.show(fmt::format("probing peers... {:.0f} s ", left + 0.5));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::shared_ptr<const analysis::NodeReport> collect(metrics::Scraper& scraper,
                                                    const analysis::Reporter& reporter) {
  scraper.scrape(metrics::Scraper::Clock::now() + std::chrono::seconds(10));
  return reporter.latest();
}

}  // namespace

void DoctorFlags::add(CLI::App& app) {
  command = app.add_subcommand(
      "doctor",
      "Run every collector once plus a short probe burst and print this node's report: its "
      "flannel identity, the device chain, every peer's road, RTT, loss and path MTU, and the "
      "findings. Exits 1 when a critical finding exists.");
  command->fallthrough();  // the exporter's flags may follow "doctor"
  command->add_option("--output", output, "Report format.")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  module::add_duration_flag(*command, "--duration", duration,
                            "Probing before the report; up to 20s more while a peer has too few "
                            "probes for its loss and latency to be judged, or its path MTU "
                            "search has not finished (0: report at once).",
                            {std::chrono::seconds(0), std::chrono::minutes(10)});
}

bool DoctorFlags::requested() const {
  return command != nullptr && command->parsed();
}

std::chrono::milliseconds DoctorFlags::first_results_within() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration / 2);
}

int run_doctor(metrics::Scraper& scraper, const std::shared_ptr<const analysis::Reporter>& reporter,
               const DoctorFlags& flags) {
  if (!reporter) {
    std::cerr << "podpath-exporter doctor: no report: the analysis collector is disabled "
                 "(remove --no-collector.analysis)\n";
    return 2;
  }
  const auto until = Clock::now() + flags.duration;
  wait_for_burst(until);
  auto report = collect(scraper, *reporter);
  // --duration 0 asks for the report at once.
  Progress progress;
  while (flags.duration.count() > 0 && report && report->awaiting_probes() &&
         Clock::now() < until + kMaxExtraWait) {
    progress.show("waiting for the last probes... ");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    report = collect(scraper, *reporter);
  }
  progress.clear();
  if (!report) {
    std::cerr << "podpath-exporter doctor: the analysis produced no report\n";
    return 2;
  }
  const bool json = flags.output == "json";
  std::cout << (json ? report::render_json(*report)
                     : report::render_text(*report, isatty(STDOUT_FILENO) == 1));
  return report->has_critical() ? 1 : 0;
}

}  // namespace podpath::app
