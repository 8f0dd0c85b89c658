// The Kubernetes API as the node watcher needs it: list nodes, watch nodes. The watcher's
// logic (re-list on 410, resume, backoff) is tested against a scripted fake of this
// interface; CurlNodeApi talks to a real (or the lab's fake) API server.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "kubernetes/node_stream.h"

namespace podpath::kubernetes {

// Why a request failed, as a small fixed set for podpath_kubernetes_api_errors_total.
enum class ApiError { kNone, kConnect, kTls, kTimeout, kUnauthorized, kHttp, kDecode, kOther };
std::string_view to_string(ApiError error);

struct ApiResult {
  enum class Kind {
    kOk,       // list complete; watch stream ended cleanly (timeoutSeconds, server closed it)
    kGone,     // 410: the resourceVersion is too old, list again
    kStopped,  // interrupt() was called
    kError,
  };
  Kind kind = Kind::kOk;
  ApiError error = ApiError::kNone;
  std::string message;
  // For a watch: the server accepted it (HTTP 200) before it ended; errors after that
  // are a dropped stream, not an unreachable API.
  bool established = false;

  static ApiResult ok() { return {}; }
  static ApiResult failed(ApiError error, std::string message, bool established = false) {
    return {Kind::kError, error, std::move(message), established};
  }
};

class NodeApi {
 public:
  virtual ~NodeApi() = default;
  // Lists every node, page by page, calling on_node for each; sets resource_version to the
  // list's version (the snapshot a watch continues from).
  virtual ApiResult list_nodes(const std::function<void(ParsedNode&&)>& on_node,
                               std::string& resource_version) = 0;
  // Watches from resource_version with bookmarks until the server ends the stream after
  // about timeout_seconds. on_event returns false to stop reading (e.g. an ERROR 410).
  // `on_open` runs once the server has accepted the watch.
  virtual ApiResult watch_nodes(const std::string& resource_version, int timeout_seconds,
                                const std::function<void()>& on_open,
                                const std::function<bool(WatchEvent&&)>& on_event) = 0;
  // From another thread: makes a call in progress return kStopped soon, and every later
  // call too.
  virtual void interrupt() = 0;
};

}  // namespace podpath::kubernetes
