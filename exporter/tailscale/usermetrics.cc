// There is no Prometheus text-format parser packaged in Debian for C++ (prometheus-cpp is
// not packaged, and it only writes the format anyway), so this is a small line parser for
// the four families podpath reads. It follows the text format 0.0.4 rules that matter for
// them: '#' lines are comments, label values are quoted with \\, \" and \n escapes, the
// value is a Go float (including +Inf/NaN), and an optional timestamp may follow.
#include "tailscale/usermetrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace podpath::tailscale {

namespace {

struct Family {
  std::string_view name;
  std::string_view direction;
  bool packets;
};

constexpr Family kFamilies[] = {
    {"tailscaled_inbound_packets_total", "inbound", true},
    {"tailscaled_outbound_packets_total", "outbound", true},
    {"tailscaled_inbound_bytes_total", "inbound", false},
    {"tailscaled_outbound_bytes_total", "outbound", false},
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':';
}

void skip_blanks(std::string_view line, size_t& pos) {
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
}

// Parses {name="value",...} at pos (which points at '{'); returns the labels or an error.
std::optional<std::map<std::string, std::string>> parse_labels(std::string_view line, size_t& pos,
                                                               std::string& error) {
  std::map<std::string, std::string> labels;
  ++pos;  // '{'
  while (true) {
    skip_blanks(line, pos);
    if (pos < line.size() && line[pos] == '}') {
      ++pos;
      return labels;
    }
    size_t start = pos;
    while (pos < line.size() && is_name_char(line[pos])) ++pos;
    std::string name(line.substr(start, pos - start));
    skip_blanks(line, pos);
    if (name.empty() || pos >= line.size() || line[pos] != '=') {
      error = "malformed label name";
      return std::nullopt;
    }
    ++pos;
    skip_blanks(line, pos);
    if (pos >= line.size() || line[pos] != '"') {
      error = "label value not quoted";
      return std::nullopt;
    }
    ++pos;
    std::string value;
    bool closed = false;
    while (pos < line.size()) {
      char c = line[pos++];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\') {
        if (pos >= line.size()) break;
        char e = line[pos++];
        if (e == 'n')
          value += '\n';
        else if (e == '\\' || e == '"')
          value += e;
        else {
          error = "bad escape in label value";
          return std::nullopt;
        }
        continue;
      }
      value += c;
    }
    if (!closed) {
      error = "unterminated label value";
      return std::nullopt;
    }
    labels[std::move(name)] = std::move(value);
    skip_blanks(line, pos);
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
}

std::optional<double> parse_value(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

UserMetricsParse parse_usermetrics(std::string_view text) {
  UserMetricsParse result;
  std::map<std::pair<std::string, std::string>, PathCounter> counters;
  std::set<std::pair<std::string_view, std::string>> seen;  // (family, path)
  size_t line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t pos = 0;
    skip_blanks(line, pos);
    if (pos >= line.size() || line[pos] == '#') continue;
    size_t name_start = pos;
    while (pos < line.size() && is_name_char(line[pos])) ++pos;
    std::string_view name = line.substr(name_start, pos - name_start);
    const Family* family = nullptr;
    for (const auto& f : kFamilies)
      if (f.name == name) family = &f;
    if (family == nullptr) continue;  // other families are not ours to judge
    auto fail = [&](std::string_view why) {
      result.counters.clear();
      result.error = fmt::format("line {}: {}: {}", line_number, name, why);
      return result;
    };
    std::map<std::string, std::string> labels;
    if (pos < line.size() && line[pos] == '{') {
      std::string error;
      auto parsed = parse_labels(line, pos, error);
      if (!parsed) return fail(error);
      labels = std::move(*parsed);
    }
    skip_blanks(line, pos);
    size_t value_start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
    auto value = parse_value(line.substr(value_start, pos - value_start));
    if (!value) return fail("malformed value");
    skip_blanks(line, pos);
    // An optional integer timestamp in milliseconds; podpath exports its own view of "now".
    if (pos < line.size()) {
      std::int64_t timestamp = 0;
      std::string_view rest = line.substr(pos);
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), timestamp);
      if (ec != std::errc() || end != rest.data() + rest.size()) return fail("trailing garbage");
    }
    auto path = labels.find("path");
    if (path == labels.end() || path->second.empty()) return fail("sample without a path label");
    if (!seen.emplace(family->name, path->second).second) return fail("duplicate sample");
    PathCounter& counter = counters[{std::string(family->direction), path->second}];
    counter.direction = family->direction;
    counter.path = path->second;
    (family->packets ? counter.packets : counter.bytes) = *value;
  }
  for (auto& [key, counter] : counters) result.counters.push_back(std::move(counter));
  return result;
}

}  // namespace podpath::tailscale
