// Exponential backoff with jitter for retrying the API. The random value is passed in,
// so the sequence is deterministic under test.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>

namespace podpath::kubernetes {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  // Each failure doubles the base delay from `initial` up to `max`; the delay returned is
  // the base scaled by a factor in [1 - jitter, 1 + jitter), so many exporters that lost
  // the API at the same moment do not come back in step.
  Backoff(Duration initial, Duration max, double jitter = 0.25)
      : initial_(initial), max_(std::max(initial, max)), jitter_(jitter) {}

  // `random01` in [0, 1).
  Duration next(double random01) {
    double base = static_cast<double>(initial_.count()) * std::pow(2.0, failures_);
    base = std::min(base, static_cast<double>(max_.count()));
    if (base < static_cast<double>(max_.count())) ++failures_;
    double factor = 1.0 - jitter_ + 2.0 * jitter_ * random01;
    return Duration(static_cast<Duration::rep>(std::llround(base * factor)));
  }
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  Duration initial_;
  Duration max_;
  double jitter_;
  int failures_ = 0;
};

}  // namespace podpath::kubernetes
