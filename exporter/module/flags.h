// Flag helpers every module (and the web and scrape flags) share, so that one kind of value
// is spelled one way on the command line.
#pragma once

#include <chrono>
#include <string>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace podpath::module {

struct DurationRange {
  std::chrono::nanoseconds min{0};
  std::chrono::nanoseconds max = std::chrono::hours(24);
};

// A time flag: a Prometheus duration ("500ms", "5s", "1m30s"), or a bare number of seconds
// as the flag took before. The default is shown as a duration. A malformed or out-of-range
// value fails the parse with a message naming the flag and an example.
CLI::Option* add_duration_flag(CLI::App& app, const std::string& name,
                               std::chrono::nanoseconds& target, const std::string& description,
                               DurationRange range = {});

// In the largest unit that divides it: 60s -> "1m", 1500ms -> "1500ms", 0 -> "0s".
std::string format_duration(std::chrono::nanoseconds duration);

}  // namespace podpath::module
