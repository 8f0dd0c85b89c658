#include "metrics/exposition.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "metrics/protobuf.h"

namespace podpath::metrics {

std::string_view content_type(Format format) {
  switch (format) {
    case Format::kOpenMetrics100:
      return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case Format::kProtobufDelimited:
      // As client_golang's expfmt writes it, and Prometheus' scrape loop matches it.
      return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
             "encoding=delimited";
    case Format::kText004:
      break;
  }
  return "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// q-values are 0..1 with at most three decimals (RFC 9110 12.4.2); anything else is
// treated as malformed and the range ignored.
std::optional<double> parse_qvalue(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 5) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 1)
    return std::nullopt;
  return value;
}

}  // namespace

Format negotiate(std::string_view accept) {
  double best_protobuf = -1;
  double best_openmetrics = -1;
  double best_text = -1;
  while (!accept.empty()) {
    auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    auto semi = range.find(';');
    std::string_view media = trim(range.substr(0, semi));
    double q = 1;
    std::string_view version;
    std::string_view proto;
    std::string_view encoding;
    bool malformed = false;
    while (semi != std::string_view::npos) {
      range = range.substr(semi + 1);
      semi = range.find(';');
      std::string_view param = trim(range.substr(0, semi));
      auto eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = trim(param.substr(0, eq));
      std::string_view value = trim(param.substr(eq + 1));
      if (iequals(key, "q")) {
        auto parsed = parse_qvalue(value);
        if (!parsed)
          malformed = true;
        else
          q = *parsed;
      } else if (iequals(key, "version")) {
        version = value;
      } else if (iequals(key, "proto")) {
        proto = value;
      } else if (iequals(key, "encoding")) {
        encoding = value;
      }
    }
    if (malformed || q <= 0) continue;
    if (iequals(media, "application/vnd.google.protobuf")) {
      // Only the delimited MetricFamily stream (expfmt's FmtProtoDelim); the text and
      // compact-text protobuf encodings are not served. Compared without case, like the
      // media type, so folding case never changes the answer.
      if (iequals(proto, "io.prometheus.client.MetricFamily") && iequals(encoding, "delimited"))
        best_protobuf = std::max(best_protobuf, q);
    } else if (iequals(media, "application/openmetrics-text")) {
      // 0.0.1 is the pre-release name of the same format; both get 1.0.0.
      if (version.empty() || version == "1.0.0" || version == "0.0.1")
        best_openmetrics = std::max(best_openmetrics, q);
    } else if (iequals(media, "text/plain") || iequals(media, "text/*") || iequals(media, "*/*")) {
      best_text = std::max(best_text, q);
    }
  }
  if (best_protobuf > 0 && best_protobuf >= best_openmetrics && best_protobuf >= best_text)
    return Format::kProtobufDelimited;
  return best_openmetrics > 0 && best_openmetrics >= best_text ? Format::kOpenMetrics100
                                                               : Format::kText004;
}

namespace {

// Label values (and OpenMetrics HELP) escape backslash, newline and double quote; the text
// format's HELP leaves the quote alone (exposition_formats.md).
std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  return escape(value, true);
}

std::string escape_help(std::string_view help) {
  return escape(help, false);
}

namespace {

bool labels_less(const Labels& a, const Labels& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

void sort_labels(Labels& labels) {
  std::sort(labels.begin(), labels.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
}

}  // namespace

std::vector<MetricFamily> normalize(std::vector<MetricFamily> families,
                                    std::vector<std::string>* problems) {
  std::map<std::string, MetricFamily> by_name;
  for (auto& family : families) {
    auto [it, inserted] = by_name.try_emplace(family.name);
    if (inserted) {
      it->second = std::move(family);
      continue;
    }
    if (it->second.type != family.type) {
      if (problems)
        problems->push_back(
            fmt::format("metric family {} exported with two types; dropped one", family.name));
      continue;
    }
    for (auto& metric : family.metrics) it->second.metrics.push_back(std::move(metric));
  }
  std::vector<MetricFamily> out;
  out.reserve(by_name.size());
  for (auto& [name, family] : by_name) {
    for (auto& metric : family.metrics) sort_labels(metric.labels);
    std::stable_sort(
        family.metrics.begin(), family.metrics.end(),
        [](const Metric& a, const Metric& b) { return labels_less(a.labels, b.labels); });
    // The same label set twice would make the output invalid; keep the first.
    auto last = std::unique(family.metrics.begin(), family.metrics.end(),
                            [](const Metric& a, const Metric& b) { return a.labels == b.labels; });
    if (last != family.metrics.end()) {
      if (problems)
        problems->push_back(fmt::format("metric family {} had {} duplicate series; kept the first",
                                        name, family.metrics.end() - last));
      family.metrics.erase(last, family.metrics.end());
    }
    out.push_back(std::move(family));
  }
  return out;
}

namespace {

// Appends the value escaped; most label values need no escaping, so scan first.
void append_escaped(std::string& out, std::string_view value) {
  if (value.find_first_of("\\\"\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out += escape_label_value(value);
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    // Shortest representation that reads back to the same double, without allocating.
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, end);
  }
}

// `{a="x",b="y"` without the closing brace, so histogram lines can append `le` to it.
std::string open_label_set(const Labels& labels) {
  std::string out;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value);
    out += '"';
  }
  return out;
}

// OpenMetrics wants canonical numbers in `le`: a float always shows as a float ("1.0").
std::string le_value(double bound, Format format) {
  std::string text;
  append_value(text, bound);
  if (format == Format::kOpenMetrics100 && std::isfinite(bound) &&
      text.find_first_of(".eE") == std::string::npos)
    text += ".0";
  return text;
}

}  // namespace

std::string format_value(double value) {
  std::string out;
  append_value(out, value);
  return out;
}

namespace {

std::string_view strip_suffix(std::string_view name, std::string_view suffix) {
  if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix)
    name.remove_suffix(suffix.size());
  return name;
}

// About the final size, so the body is reserved once: growing a multi-megabyte body by
// doubling would copy it several times and hold two copies at once at the peak (1,000
// peers' histograms: 3 MB).
size_t estimated_size(const std::vector<MetricFamily>& families) {
  size_t estimate = 0;
  for (const auto& family : families) {
    estimate += 128 + family.help.size();
    for (const auto& metric : family.metrics) {
      size_t labels = 0;
      for (const auto& [name, value] : metric.labels) labels += name.size() + value.size() + 4;
      const size_t lines =
          family.type == MetricType::kHistogram ? metric.histogram.upper_bounds.size() + 3 : 1;
      estimate += lines * (family.name.size() + labels + 40);
    }
  }
  return estimate;
}

// The `# HELP` and `# TYPE` lines. The name they give differs from the samples' in
// OpenMetrics: a counter family is named without _total and an info family without _info.
void append_header(std::string& out, const MetricFamily& family, bool om) {
  std::string_view type_name;
  std::string_view family_name = family.name;
  switch (family.type) {
    case MetricType::kCounter:
      type_name = "counter";
      if (om) family_name = strip_suffix(family_name, "_total");
      break;
    case MetricType::kGauge:
      type_name = "gauge";
      break;
    case MetricType::kHistogram:
      type_name = "histogram";
      break;
    case MetricType::kInfo:
      if (om) {
        type_name = "info";
        family_name = strip_suffix(family_name, "_info");
      } else {
        type_name = "gauge";
      }
      break;
  }
  out += "# HELP ";
  out += family_name;
  out += ' ';
  out += om ? escape_label_value(family.help) : escape_help(family.help);
  out += "\n# TYPE ";
  out += family_name;
  out += ' ';
  out += type_name;
  out += '\n';
}

// One series as open_label_set() writes it ("{a=\"x\"" without the closing brace), and
// whether it has labels at all (then no braces are written).
struct SeriesLabels {
  std::string open;
  bool any;

  explicit SeriesLabels(const Labels& labels)
      : open(open_label_set(labels)), any(!labels.empty()) {}
};

// `name{labels} value`.
void append_sample(std::string& out, std::string_view name, const SeriesLabels& labels,
                   double value) {
  out += name;
  if (labels.any) {
    out += labels.open;
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

// Counters, gauges and info: one sample per series (an info sample is always 1).
void append_plain_series(std::string& out, const MetricFamily& family) {
  for (const auto& metric : family.metrics)
    append_sample(out, family.name, SeriesLabels(metric.labels),
                  family.type == MetricType::kInfo ? 1.0 : metric.value);
}

// The `le` texts of a family's buckets, "+Inf" last. Bounds are usually shared by every
// series of a family, so they are formatted again only when a series' bounds differ.
class BucketBounds {
 public:
  explicit BucketBounds(Format format) : format_(format) {}

  const std::vector<std::string>& texts(const Histogram& h, size_t buckets) {
    if (texts_.size() != buckets + 1 || bounds_ != h.upper_bounds) {
      bounds_ = h.upper_bounds;
      texts_.clear();
      for (size_t i = 0; i < buckets; ++i) texts_.push_back(le_value(h.upper_bounds[i], format_));
      texts_.push_back("+Inf");
    }
    return texts_;
  }

 private:
  const Format format_;
  std::vector<double> bounds_;  // the bounds texts_ was formatted for
  std::vector<std::string> texts_;
};

// A histogram series: its cumulative buckets, then _sum and _count.
void append_histogram_series(std::string& out, const MetricFamily& family, Format format) {
  const std::string bucket_name = family.name + "_bucket";
  const std::string sum_name = family.name + "_sum";
  const std::string count_name = family.name + "_count";
  BucketBounds bounds(format);
  for (const auto& metric : family.metrics) {
    const SeriesLabels labels(metric.labels);
    const Histogram& h = metric.histogram;
    const size_t buckets = std::min(h.upper_bounds.size(), h.cumulative_counts.size());
    const std::vector<std::string>& le_texts = bounds.texts(h, buckets);
    for (size_t i = 0; i <= buckets; ++i) {
      out += bucket_name;
      out += labels.open;
      out += labels.any ? ",le=\"" : "le=\"";
      out += le_texts[i];
      out += "\"} ";
      append_value(out, static_cast<double>(i == buckets ? h.count : h.cumulative_counts[i]));
      out += '\n';
    }
    append_sample(out, sum_name, labels, h.sum);
    append_sample(out, count_name, labels, static_cast<double>(h.count));
  }
}

}  // namespace

std::string render(const std::vector<MetricFamily>& families, Format format) {
  if (format == Format::kProtobufDelimited) return render_protobuf(families);
  const bool om = format == Format::kOpenMetrics100;
  std::string out;
  out.reserve(estimated_size(families));
  for (const auto& family : families) {
    append_header(out, family, om);
    if (family.type == MetricType::kHistogram)
      append_histogram_series(out, family, format);
    else
      append_plain_series(out, family);
  }
  if (om) out += "# EOF\n";
  return out;
}

}  // namespace podpath::metrics
