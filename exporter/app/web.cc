#include "app/web.h"

#include <fmt/format.h>
#include <malloc.h>

#include <charconv>

#include "analysis/render.h"
#include "http/gzip.h"
#include "http/html.h"
#include "metrics/exposition.h"

namespace podpath::app {

using http::html_escape;

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
    response.body = metrics::render(outcome.families, format);
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
  std::string status;
  if (status_page_) {
    // A fresh collection first, so the page shows the kernel as it is now rather than as
    // it was at Prometheus' last scrape.
    scraper_.scrape(metrics::Scraper::Clock::now() + options_.default_scrape_timeout);
    try {
      auto report = status_page_->latest();
      status = report ? analysis::render_html_section(*report) : "<p>No analysis yet.</p>\n";
    } catch (const std::exception& e) {
      status = "<p>status unavailable: " + html_escape(e.what()) + "</p>\n";
    }
  }
  // The browser refreshes the page itself; no script and no external assets.
  std::string body = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"10\">"
      "<title>podpath: {0}</title>\n<style>"
      "body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}"
      "li.critical b{{color:#b00}}li.warning b{{color:#a60}}li.info b{{color:#06a}}"
      "</style></head>\n<body>\n<h1>podpath exporter</h1>\n"
      "<p>Node <b>{0}</b>, version {1}.</p>\n<ul>\n<li><a href=\"{2}\">Metrics</a></li>\n"
      "<li><a href=\"/-/healthy\">Health</a></li>\n<li><a href=\"/-/ready\">Readiness</a></li>\n"
      "</ul>\n{3}</body></html>\n",
      html_escape(options_.node_name), html_escape(options_.version),
      html_escape(options_.telemetry_path), status);
  return {200, "text/html; charset=utf-8", {}, body};
}

}  // namespace podpath::app
