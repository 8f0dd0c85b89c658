// NodeApi over libcurl: HTTPS with the kubeconfig's or service account's credentials.
// Bodies are parsed while they stream in (node_stream.h), pulled through a std::streambuf
// that drives the transfer with libcurl's multi interface: no thread per request, no
// buffered body, and interrupt() wakes a watch that is waiting for the next event.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "kubernetes/api.h"
#include "kubernetes/kubeconfig.h"

typedef void CURLM;

namespace podpath::kubernetes {

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // A request that receives nothing for this long fails (a watch too, until its response
  // headers are in); a watch may then last its timeoutSeconds plus this long.
  std::chrono::milliseconds request_timeout{30000};
  int page_size = 500;  // list in pages, as client-go does, so no response is huge
  std::string user_agent = "podpath";
};

class CurlNodeApi final : public NodeApi {
 public:
  CurlNodeApi(ApiConfig config, CurlOptions options, NodeParseOptions parse_options);
  ~CurlNodeApi() override;
  CurlNodeApi(const CurlNodeApi&) = delete;
  CurlNodeApi& operator=(const CurlNodeApi&) = delete;

  ApiResult list_nodes(const std::function<void(ParsedNode&&)>& on_node,
                       std::string& resource_version) override;
  ApiResult watch_nodes(const std::string& resource_version, int timeout_seconds,
                        const std::function<void()>& on_open,
                        const std::function<bool(WatchEvent&&)>& on_event) override;
  void interrupt() override;

 private:
  class Transfer;
  ApiResult transport_error(const Transfer& transfer, bool established) const;
  ApiResult http_error(Transfer& transfer, long status) const;
  ApiResult headers_timeout() const;

  const ApiConfig config_;
  const CurlOptions options_;
  const NodeParseOptions parse_options_;
  CURLM* multi_;  // owns the connection cache, so list pages and the watch share a connection
  std::atomic<bool> stop_{false};
};

}  // namespace podpath::kubernetes
