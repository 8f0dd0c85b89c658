// Parsing of the prober's flag values. Pure, so the error texts are tested.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podpath::prober {

// "0.0001,0.001,0.01": strictly increasing, positive, finite. nullopt and `error` otherwise.
std::optional<std::vector<double>> parse_buckets(std::string_view text, std::string* error);

}  // namespace podpath::prober
