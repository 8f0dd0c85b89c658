// Module "analysis" (collector "analysis"): joins the other modules' latest views into one
// verdict per peer at scrape time (phase 1, after the kernel was read), exports the verdict
// metrics, and serves the report to the status page and the doctor command.
#pragma once

#include <memory>

#include "analysis/verdict.h"
#include "module/module.h"

namespace podpath::analysis {

// Gives the latest report; provided to other code through module::Services.
class Reporter {
 public:
  virtual ~Reporter() = default;
  // The report of the last analysis run, or nullptr before the first.
  virtual std::shared_ptr<const NodeReport> latest() const = 0;
};

std::unique_ptr<module::Module> make_module();

}  // namespace podpath::analysis
