#include "prober/options.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace podpath::prober {

base::Result<std::vector<double>> parse_buckets(std::string_view text) {
  using Bounds = base::Result<std::vector<double>>;
  std::vector<double> bounds;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    double value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() ||
        !std::isfinite(value) || value <= 0) {
      return Bounds::failure(fmt::format("\"{}\" is not a positive number of seconds", item));
    }
    if (!bounds.empty() && value <= bounds.back()) {
      return Bounds::failure(
          fmt::format("bounds must increase: {} after {}", value, bounds.back()));
    }
    bounds.push_back(value);
    start = comma + 1;
  }
  return bounds;
}

}  // namespace podpath::prober
