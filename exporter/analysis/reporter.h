// What the analysis offers its readers (the landing page, the doctor): the latest report.
#pragma once

#include <memory>

#include "analysis/verdict.h"

namespace podpath::analysis {

class Reporter {
 public:
  virtual ~Reporter() = default;
  // The report of the last analysis run, or nullptr before the first.
  virtual std::shared_ptr<const NodeReport> latest() const = 0;
};

}  // namespace podpath::analysis
