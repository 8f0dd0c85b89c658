#include "prober/pmtu.h"

#include <algorithm>

namespace podpath::prober {

PmtuSearch::PmtuSearch(int device_mtu, int minimum_size)
    : minimum_(minimum_size), upper_(std::max(device_mtu, minimum_size)), current_(upper_) {}

std::optional<int> PmtuSearch::next_size() const {
  if (done_) return std::nullopt;
  return current_;
}

std::optional<int> PmtuSearch::result() const {
  if (!done_) return std::nullopt;
  return passed_;
}

void PmtuSearch::on_reply(int size) {
  if (done_ || size != current_) return;
  passed_ = std::max(passed_.value_or(0), size);
  attempts_ = 0;
  settle();
}

void PmtuSearch::on_timeout(int size) {
  if (done_ || size != current_) return;
  if (++attempts_ < kAttemptsPerSize) return;  // send the same size once more
  fail(size);
}

void PmtuSearch::on_too_big(int size, int mtu) {
  if (done_ || size != current_) return;
  if (mtu >= minimum_ && mtu < size) {
    // Nothing larger than the reported MTU passes that hop; the MTU itself likely does.
    upper_ = std::min(upper_, mtu);
    hint_ = mtu;
  }
  fail(size);
}

void PmtuSearch::fail(int size) {
  attempts_ = 0;
  if (size <= minimum_) {
    done_ = true;  // even the smallest packet does not pass: the path is down
    return;
  }
  upper_ = std::min(upper_, size - 1);
  if (hint_ && *hint_ > upper_) hint_.reset();
  settle();
}

void PmtuSearch::settle() {
  if (passed_ && *passed_ >= upper_) {
    done_ = true;
    return;
  }
  if (!passed_) {
    // Nothing has passed yet: first make sure the path works at all.
    current_ = hint_ ? *hint_ : minimum_;
    hint_.reset();
    return;
  }
  if (hint_ && *hint_ > *passed_) {
    current_ = *hint_;
    hint_.reset();
    return;
  }
  current_ = *passed_ + (upper_ - *passed_ + 1) / 2;
}

}  // namespace podpath::prober
