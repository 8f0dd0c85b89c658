#include "module/flags.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "base/duration.h"

namespace podpath::module {

std::string format_duration(std::chrono::nanoseconds duration) {
  using namespace std::chrono;
  const std::int64_t ns = duration.count();
  if (ns == 0) return "0s";
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  // Whole units of the largest size that divides the value; else seconds with a fraction.
  for (const Unit unit : {Unit{3'600'000'000'000, "h"}, Unit{60'000'000'000, "m"},
                          Unit{1'000'000'000, "s"}, Unit{1'000'000, "ms"}, Unit{1'000, "us"}})
    if (ns % unit.ns == 0) return fmt::format("{}{}", ns / unit.ns, unit.name);
  if (ns >= 1'000'000'000) return fmt::format("{}s", static_cast<double>(ns) / 1e9);
  return fmt::format("{}ns", ns);
}

CLI::Option* add_duration_flag(CLI::App& app, const std::string& name,
                               std::chrono::nanoseconds& target, const std::string& description,
                               DurationRange range) {
  auto parse = [&target, name, range](const std::string& text) {
    auto value = base::parse_duration(text);
    if (!value)
      throw CLI::ValidationError(
          name, fmt::format("\"{}\" is not a duration; use e.g. 500ms, 5s or 1m", text));
    if (*value < range.min || *value > range.max)
      throw CLI::ValidationError(
          name, fmt::format("{} is out of range; give {} to {}", text, format_duration(range.min),
                            format_duration(range.max)));
    target = *value;
  };
  return app.add_option_function<std::string>(name, parse, description)
      ->type_name("DURATION")
      ->default_str(format_duration(target));
}

}  // namespace podpath::module
