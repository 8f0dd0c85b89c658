// Parsing of the prober's flag values. Pure, so the error texts are tested.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace podpath::prober {

// "0.0001,0.001,0.01": strictly increasing, positive, finite; or why not.
base::Result<std::vector<double>> parse_buckets(std::string_view text);

}  // namespace podpath::prober
