#include "base/logger.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace podpath::base {

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

// Length of the well-formed UTF-8 sequence at s[i] (1 for ASCII), or 0 when the bytes there
// are not UTF-8: what the exporter logs can come from files and sockets that send garbage.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) low = 0xa0;   // overlong
    if (c == 0xed) high = 0x9f;  // UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) low = 0x90;   // overlong
    if (c == 0xf4) high = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return n;
}

// JSON string with control characters escaped and bytes that are not UTF-8 replaced by
// U+FFFD, so a line stays valid JSON (and logfmt stays one line of text) whatever was read.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
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
        if (c < 0x20 || c == 0x7f)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// logfmt quotes a value when it has spaces, quotes, '=', control characters or bytes that
// are not UTF-8 (quoting escapes them), or is empty.
std::string logfmt_value(std::string_view s) {
  bool needs_quotes = s.empty() || s.find_first_of(" \"=\\") != std::string_view::npos;
  for (std::size_t i = 0; i < s.size() && !needs_quotes;) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_length(s, i);
    needs_quotes = c < 0x20 || c == 0x7f || n == 0;
    i += n == 0 ? 1 : n;
  }
  return needs_quotes ? json_string(s) : std::string(s);
}

}  // namespace

Logger::Logger(LogLevel level, LogFormat format, Sink sink, Clock clock)
    : shared_(std::make_shared<Shared>()) {
  shared_->level = level;
  shared_->format = format;
  shared_->sink = std::move(sink);
  shared_->clock = std::move(clock);
  if (!shared_->sink)
    shared_->sink = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
    };
  if (!shared_->clock) shared_->clock = [] { return std::chrono::system_clock::now(); };
}

Logger Logger::with(const Fields& context) const {
  Logger child = *this;
  child.context_.insert(child.context_.end(), context.begin(), context.end());
  return child;
}

std::string Logger::format_line(LogLevel level, std::string_view message,
                                const Fields& fields) const {
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(shared_->clock());
  std::string ts = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
  std::string line;
  if (shared_->format == LogFormat::kJson) {
    line = fmt::format("{{\"ts\":{},\"level\":{},\"msg\":{}", json_string(ts),
                       json_string(level_name(level)), json_string(message));
    for (const Fields* set : {&context_, &fields})
      for (const auto& [k, v] : *set) line += fmt::format(",{}:{}", json_string(k), json_string(v));
    line += "}\n";
  } else {
    line = fmt::format("ts={} level={} msg={}", ts, level_name(level), logfmt_value(message));
    for (const Fields* set : {&context_, &fields})
      for (const auto& [k, v] : *set) line += fmt::format(" {}={}", k, logfmt_value(v));
    line += '\n';
  }
  return line;
}

void Logger::log(LogLevel level, std::string_view message, const Fields& fields) {
  if (level < shared_->level) return;
  std::string line = format_line(level, message, fields);
  std::lock_guard lock(shared_->mutex);
  shared_->sink(line);
}

bool Logger::warn_every(std::string_view key, std::chrono::seconds every, std::string_view message,
                        const Fields& fields) {
  {
    std::lock_guard lock(shared_->mutex);
    auto now = shared_->clock();
    auto it = shared_->last_logged.find(key);
    if (it != shared_->last_logged.end() && now - it->second < every) return false;
    shared_->last_logged[std::string(key)] = now;
  }
  warn(message, fields);
  return true;
}

}  // namespace podpath::base
