// podpath's HTTP endpoints, as one Handler over the Scraper: /metrics (content
// negotiation, gzip, the scrape deadline), the landing page, /-/healthy and /-/ready.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "analysis/reporter.h"
#include "base/logger.h"
#include "http/server.h"
#include "metrics/budget.h"
#include "metrics/scraper.h"

namespace podpath::app {

struct WebOptions {
  std::string telemetry_path = "/metrics";
  // Used when Prometheus sends no X-Prometheus-Scrape-Timeout-Seconds header.
  std::chrono::milliseconds default_scrape_timeout{10000};
  // Subtracted from the scrape timeout so the answer arrives before Prometheus gives up.
  std::chrono::milliseconds timeout_offset{500};
  std::string node_name;
  std::string version;
  metrics::SeriesBudget series_budget;
};

// Turns the Prometheus scrape-timeout header into a deadline budget; pure for tests.
std::chrono::milliseconds scrape_budget(std::string_view timeout_header, const WebOptions& options);

class Web {
 public:
  Web(WebOptions options, metrics::Scraper& scraper, base::Logger& log);
  // The landing page shows the analysis' latest report under its links, rendered fresh on
  // every request; without one (analysis off) it shows the links only.
  void set_status_page(std::shared_ptr<const analysis::Reporter> reporter) {
    status_page_ = std::move(reporter);
  }
  http::Response handle(const http::Request& request);
  void set_ready(bool ready) { ready_ = ready; }

 private:
  http::Response metrics_page(const http::Request& request);
  http::Response landing_page() const;

  WebOptions options_;
  metrics::Scraper& scraper_;
  base::Logger& log_;
  std::atomic<bool> ready_{false};
  std::shared_ptr<const analysis::Reporter> status_page_;  // set before the server starts
};

}  // namespace podpath::app
