#include "app/web.h"

#include <malloc.h>

#include <charconv>

#include "http/gzip.h"
#include "metrics/exposition.h"
#include "report/status_page.h"

namespace podpath::app {

std::chrono::milliseconds scrape_budget(std::string_view header, const WebOptions& options) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  std::chrono::milliseconds timeout = options.default_scrape_timeout;
  if (!header.empty() && ec == std::errc() && end == header.data() + header.size() && seconds > 0 &&
      seconds < 3600)
    timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  // A timeout shorter than twice the offset keeps half of itself rather than nothing.
  auto budget = timeout - options.timeout_offset;
  if (budget < timeout / 2) budget = timeout / 2;
  return budget;
}

Web::Web(WebOptions options, metrics::Scraper& scraper, base::Logger& log)
    : options_(std::move(options)), scraper_(scraper), log_(log) {}

http::Response Web::handle(const http::Request& request) {
  if (request.method != "GET" && request.method != "HEAD")
    return {405, "text/plain; charset=utf-8", {{"Allow", "GET, HEAD"}}, "method not allowed\n"};
  if (request.path == options_.telemetry_path) return metrics_page(request);
  if (request.path == "/-/healthy") return {200, "text/plain; charset=utf-8", {}, "Healthy\n"};
  if (request.path == "/-/ready") {
    if (ready_) return {200, "text/plain; charset=utf-8", {}, "Ready\n"};
    return {503, "text/plain; charset=utf-8", {}, "Not ready\n"};
  }
  if (request.path == "/") return landing_page();
  return {404, "text/plain; charset=utf-8", {}, "not found\n"};
}

http::Response Web::metrics_page(const http::Request& request) {
  auto budget = scrape_budget(request.header("X-Prometheus-Scrape-Timeout-Seconds"), options_);
  auto format = metrics::negotiate(request.header("Accept"));
  http::Response response;
  response.content_type = std::string(metrics::content_type(format));
  response.headers.emplace_back("Vary", "Accept, Accept-Encoding");
  {
    auto outcome = scraper_.scrape(metrics::Scraper::Clock::now() + budget);
    for (const auto& problem : outcome.problems)
      log_.warn_every(problem, std::chrono::seconds(60), "collection problem", {{"err", problem}});
    const auto kept = metrics::apply_series_budget(outcome.families, options_.series_budget);
    for (auto& family : metrics::budget_families(options_.series_budget, kept))
      outcome.families.push_back(std::move(family));
    response.body = metrics::render(metrics::normalize(std::move(outcome.families)), format);
  }
  if (http::accepts_gzip(request.header("Accept-Encoding"))) {
    response.body = http::gzip_compress(response.body);
    response.headers.emplace_back("Content-Encoding", "gzip");
  }
  // A scrape of a large cluster builds and frees tens of MB on collector threads; without
  // this glibc keeps the freed pages, and resident memory ratchets up scrape after scrape.
  malloc_trim(0);
  return response;
}

http::Response Web::landing_page() const {
  const report::PageHeader header{options_.node_name, options_.version, options_.telemetry_path};
  std::string body;
  if (!status_page_) {
    body = report::render_status_page(header, report::AnalysisOff{});
  } else {
    // A fresh collection first, so the page shows the kernel as it is now rather than as
    // it was at Prometheus' last scrape.
    scraper_.scrape(metrics::Scraper::Clock::now() + options_.default_scrape_timeout);
    try {
      body = report::render_status_page(header, status_page_->latest());
    } catch (const std::exception& e) {
      body = report::render_status_page(header, report::ReportUnavailable{e.what()});
    }
  }
  return {200, "text/html; charset=utf-8", {}, std::move(body)};
}

}  // namespace podpath::app
