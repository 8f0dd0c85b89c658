#include "app/web.h"

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <gtest/gtest.h>
#include <prometheus_client/metrics.pb.h>
#include <zlib.h>

#include <algorithm>
#include <stdexcept>

#include "report/report_fixtures.h"
#include "report/status_page.h"

namespace podpath::app {
namespace {

using namespace std::chrono_literals;

std::string gunzip(const std::string& data) {
  z_stream s{};
  inflateInit2(&s, 15 + 16);
  std::string out(1 << 20, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&s, Z_FINISH);
  inflateEnd(&s);
  EXPECT_EQ(rc, Z_STREAM_END);
  out.resize(s.total_out);
  return out;
}

class Gauge : public metrics::Collector {
 public:
  std::string name() const override { return "gauge"; }
  metrics::CollectResult collect() override {
    metrics::CollectResult r;
    r.families.push_back(
        metrics::MetricFamily("test_gauge", "A test.", metrics::MetricType::kGauge).add({}, 42));
    return r;
  }
};

struct Fixture {
  Fixture() : log(base::LogLevel::kError, base::LogFormat::kLogfmt, [](std::string_view) {}) {
    scraper.add(std::make_shared<Gauge>());
  }
  http::Response get(const std::string& path, http::Request request = {}) {
    request.method = "GET";
    request.path = path;
    return web.handle(request);
  }
  metrics::Scraper scraper;
  base::Logger log;
  Web web{WebOptions{"/metrics", 10000ms, 500ms, "node-a", "0.1.0", {}}, scraper, log};
};

TEST(Web, MetricsDefaultsToText004) {
  Fixture f;
  auto r = f.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("test_gauge 42\n"), std::string::npos);
  EXPECT_NE(r.body.find("podpath_collector_success{collector=\"gauge\"} 1"), std::string::npos);
}

TEST(Web, MetricsServesOpenMetricsWhenAsked) {
  Fixture f;
  http::Request request;
  request.headers = {{"accept", "application/openmetrics-text;version=1.0.0"}};
  auto r = f.get("/metrics", request);
  EXPECT_EQ(r.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_TRUE(r.body.ends_with("# EOF\n"));
}

// What Prometheus 2.42 asks with --enable-feature=native-histograms, gzip included.
TEST(Web, MetricsServesDelimitedProtobufToNativeHistogramScrapers) {
  Fixture f;
  http::Request request;
  request.headers = {
      {"Accept",
       "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
       "encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"
       "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
       "*/*;q=0.1"},
      {"Accept-Encoding", "gzip"}};
  auto r = f.get("/metrics", request);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type,
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
            "encoding=delimited");
  const std::string body = gunzip(r.body);
  google::protobuf::io::ArrayInputStream stream(body.data(), static_cast<int>(body.size()));
  std::vector<std::string> names;
  while (true) {
    // A fresh message each time: parsing merges into what the message already holds.
    io::prometheus::client::MetricFamily family;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&family, &stream, nullptr)) break;
    names.push_back(family.name());
    if (family.name() == "test_gauge") {
      EXPECT_EQ(family.metric(0).gauge().value(), 42);
    }
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "test_gauge"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "podpath_collector_success"), names.end());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Web, MetricsGzipWhenAccepted) {
  Fixture f;
  http::Request request;
  request.headers = {{"Accept-Encoding", "gzip, deflate"}};
  auto r = f.get("/metrics", request);
  bool has_encoding = false;
  for (const auto& [k, v] : r.headers)
    if (k == "Content-Encoding" && v == "gzip") has_encoding = true;
  ASSERT_TRUE(has_encoding);
  EXPECT_NE(gunzip(r.body).find("test_gauge 42\n"), std::string::npos);

  request.headers = {{"Accept-Encoding", "gzip;q=0, identity"}};
  auto plain = f.get("/metrics", request);
  EXPECT_NE(plain.body.find("test_gauge 42\n"), std::string::npos);
}

TEST(Web, HealthReadinessLandingAndErrors) {
  Fixture f;
  EXPECT_EQ(f.get("/-/healthy").status, 200);
  EXPECT_EQ(f.get("/-/ready").status, 503);
  f.web.set_ready(true);
  EXPECT_EQ(f.get("/-/ready").status, 200);
  auto landing = f.get("/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.body.find("href=\"/metrics\""), std::string::npos);
  EXPECT_EQ(f.get("/nope").status, 404);
  http::Request post;
  post.method = "POST";
  post.path = "/metrics";
  EXPECT_EQ(f.web.handle(post).status, 405);
}

// The analysis as the landing page sees it: no report yet, a report, or a failure to give one.
class FakeStatusPage : public analysis::Reporter {
 public:
  explicit FakeStatusPage(std::shared_ptr<const analysis::NodeReport> report, bool fail = false)
      : report_(std::move(report)), fail_(fail) {}
  std::shared_ptr<const analysis::NodeReport> latest() const override {
    if (fail_) throw std::runtime_error("report <locked> & gone");
    return report_;
  }

 private:
  std::shared_ptr<const analysis::NodeReport> report_;
  bool fail_;
};

std::string landing_page(std::shared_ptr<const analysis::Reporter> status_page) {
  metrics::Scraper scraper;
  base::Logger log(base::LogLevel::kError, base::LogFormat::kLogfmt, [](std::string_view) {});
  Web web{WebOptions{"/metrics?a=1&b='2'", 10000ms, 500ms, "node-<a>", "0.1.0 \"rc\"", {}}, scraper,
          log};
  if (status_page) web.set_status_page(std::move(status_page));
  http::Request request;
  request.method = "GET";
  request.path = "/";
  auto page = web.handle(request);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  return page.body;
}

// The landing page is report/'s status page (tests/report/status_page_test.cc holds it byte for
// byte) with the options' header and the analysis' state: off, no report yet, a report, or a
// report that could not be read.
TEST(Web, LandingPageIsTheStatusPageOfTheAnalysisState) {
  const report::PageHeader header{"node-<a>", "0.1.0 \"rc\"", "/metrics?a=1&b='2'"};
  auto report =
      std::make_shared<const analysis::NodeReport>(report::fixtures::report_with_every_case());
  EXPECT_EQ(landing_page(nullptr), report::render_status_page(header, report::AnalysisOff{}));
  EXPECT_EQ(landing_page(std::make_shared<FakeStatusPage>(nullptr)),
            report::render_status_page(header, std::shared_ptr<const analysis::NodeReport>()));
  EXPECT_EQ(landing_page(std::make_shared<FakeStatusPage>(report)),
            report::render_status_page(header, report));
  EXPECT_EQ(
      landing_page(std::make_shared<FakeStatusPage>(nullptr, true)),
      report::render_status_page(header, report::ReportUnavailable{"report <locked> & gone"}));
}

TEST(Web, ScrapeBudgetFollowsPrometheusHeader) {
  WebOptions o;
  o.default_scrape_timeout = 10000ms;
  o.timeout_offset = 500ms;
  EXPECT_EQ(scrape_budget("", o), 9500ms);
  EXPECT_EQ(scrape_budget("5", o), 4500ms);
  EXPECT_EQ(scrape_budget("0.5", o), 250ms);  // never below half the timeout
  EXPECT_EQ(scrape_budget("garbage", o), 9500ms);
  EXPECT_EQ(scrape_budget("-3", o), 9500ms);
}

}  // namespace
}  // namespace podpath::app
