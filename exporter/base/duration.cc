#include "base/duration.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace podpath::base {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double bare = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bare);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (!(bare >= 0) || bare > 1e6) return std::nullopt;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(bare * 1e9)));
  }
  double total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    double value = 0;
    auto [next, err] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (err != std::errc() || next == rest.data() || !(value >= 0)) return std::nullopt;
    rest.remove_prefix(static_cast<std::size_t>(next - rest.data()));
    std::size_t letters = 0;
    while (letters < rest.size() && rest[letters] >= 'a' && rest[letters] <= 'z') ++letters;
    std::string_view unit = rest.substr(0, letters);
    rest.remove_prefix(letters);
    if (unit == "ns")
      total += value;
    else if (unit == "us")
      total += value * 1e3;
    else if (unit == "ms")
      total += value * 1e6;
    else if (unit == "s")
      total += value * 1e9;
    else if (unit == "m")
      total += value * 60e9;
    else if (unit == "h")
      total += value * 3600e9;
    else
      return std::nullopt;
  }
  if (total > 1e15) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(total)));
}

}  // namespace podpath::base
