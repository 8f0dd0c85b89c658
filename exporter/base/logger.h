// Structured logging in the two formats Prometheus exporters use (--log.format logfmt|json).
// Small on purpose: one line per event, key-value pairs, a level filter, and a rate limit
// for warnings that the environment can repeat every scrape.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podpath::base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kLogfmt, kJson };

std::optional<LogLevel> parse_log_level(std::string_view text);
std::optional<LogFormat> parse_log_format(std::string_view text);

using Fields = std::vector<std::pair<std::string, std::string>>;

// Copies share one sink, level filter and rate limit: with() gives a module its own logger
// whose every line carries its fields (collector=<name>), while the process still writes one
// line at a time to one place.
class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  Logger(LogLevel level, LogFormat format, Sink sink = {}, Clock clock = {});

  // A logger that adds `context` before the fields of every line it writes.
  Logger with(const Fields& context) const;

  void log(LogLevel level, std::string_view message, const Fields& fields = {});
  void debug(std::string_view m, const Fields& f = {}) { log(LogLevel::kDebug, m, f); }
  void info(std::string_view m, const Fields& f = {}) { log(LogLevel::kInfo, m, f); }
  void warn(std::string_view m, const Fields& f = {}) { log(LogLevel::kWarn, m, f); }
  void error(std::string_view m, const Fields& f = {}) { log(LogLevel::kError, m, f); }

  // Logs at most once per `every` for the same key; returns whether it logged. Keys are
  // shared by every copy, so two modules' keys must differ (they carry the module's name).
  bool warn_every(std::string_view key, std::chrono::seconds every, std::string_view message,
                  const Fields& fields = {});

  // Formats a line without writing it (for tests).
  std::string format_line(LogLevel level, std::string_view message, const Fields& fields) const;

 private:
  struct Shared {
    LogLevel level;
    LogFormat format;
    Sink sink;
    Clock clock;
    std::mutex mutex;  // guards last_logged and serialises writes
    std::map<std::string, std::chrono::system_clock::time_point, std::less<>> last_logged;
  };
  std::shared_ptr<Shared> shared_;
  Fields context_;
};

}  // namespace podpath::base
