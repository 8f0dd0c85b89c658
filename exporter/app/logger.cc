#include "app/logger.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace podpath::app {

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "logfmt") return LogFormat::kLogfmt;
  if (text == "json") return LogFormat::kJson;
  return std::nullopt;
}

namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// logfmt quotes a value when it has spaces, quotes, '=' or is empty.
std::string logfmt_value(std::string_view s) {
  bool needs_quotes = s.empty() || s.find_first_of(" \"=\t\n\r\\") != std::string_view::npos;
  return needs_quotes ? json_string(s) : std::string(s);
}

}  // namespace

Logger::Logger(LogLevel level, LogFormat format, Sink sink, Clock clock)
    : level_(level), format_(format), sink_(std::move(sink)), clock_(std::move(clock)) {
  if (!sink_)
    sink_ = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
    };
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

std::string Logger::format_line(LogLevel level, std::string_view message,
                                const Fields& fields) const {
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(clock_());
  std::string ts = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
  std::string line;
  if (format_ == LogFormat::kJson) {
    line = fmt::format("{{\"ts\":{},\"level\":{},\"msg\":{}", json_string(ts),
                       json_string(level_name(level)), json_string(message));
    for (const auto& [k, v] : fields) line += fmt::format(",{}:{}", json_string(k), json_string(v));
    line += "}\n";
  } else {
    line = fmt::format("ts={} level={} msg={}", ts, level_name(level), logfmt_value(message));
    for (const auto& [k, v] : fields) line += fmt::format(" {}={}", k, logfmt_value(v));
    line += '\n';
  }
  return line;
}

void Logger::log(LogLevel level, std::string_view message, const Fields& fields) {
  if (level < level_) return;
  std::string line = format_line(level, message, fields);
  std::lock_guard lock(mutex_);
  sink_(line);
}

bool Logger::warn_every(std::string_view key, std::chrono::seconds every, std::string_view message,
                        const Fields& fields) {
  {
    std::lock_guard lock(mutex_);
    auto now = clock_();
    auto it = last_logged_.find(key);
    if (it != last_logged_.end() && now - it->second < every) return false;
    last_logged_[std::string(key)] = now;
  }
  warn(message, fields);
  return true;
}

}  // namespace podpath::app
