// `podpath-exporter doctor`: every collector once plus a short probe burst, then this node's
// report on standard output; exit 1 when a finding is critical.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "analysis/module.h"
#include "metrics/scraper.h"

namespace CLI {
class App;
}

namespace podpath::app {

struct DoctorFlags {
  std::string output = "text";
  std::chrono::nanoseconds duration = std::chrono::seconds(5);
  CLI::App* command = nullptr;  // set by add(); parsed() tells whether the doctor was asked for

  void add(CLI::App& app);
  bool requested() const;
  // The doctor wants every peer's first path MTU search started within the first half of
  // its burst, not spread over the exporter's 10 s.
  std::chrono::milliseconds first_results_within() const;
};

// Waits for the burst, collects, waits (bounded) for peers not judged yet, prints the report.
// Returns the process exit code.
int run_doctor(metrics::Scraper& scraper, const std::shared_ptr<const analysis::Reporter>& reporter,
               const DoctorFlags& flags);

}  // namespace podpath::app
