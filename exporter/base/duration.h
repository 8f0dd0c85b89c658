// Prometheus-style durations, the one syntax every time flag takes: "1s", "250ms", "1m",
// "1m30s", "0", and a bare number of seconds ("0.5"), as the flags took before.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace podpath::base {

// nullopt when malformed, negative or beyond about eleven days of nanoseconds.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

}  // namespace podpath::base
