// The streaming NodeList and watch-event readers (kubernetes/node_stream.h). Besides "no
// crash, no throw", the pruning SAX handler must not change what parse_node() sees: every
// Node read from the stream equals parse_node() of the same item parsed whole.
#include "kubernetes/node_stream.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "check.h"

namespace k8s = podpath::kubernetes;

namespace {

void check_same(const k8s::ParsedNode& streamed, const k8s::ParsedNode& whole,
                std::string_view text) {
  FUZZ_CHECK(streamed.node == whole.node, text);
  FUZZ_CHECK(streamed.resource_version == whole.resource_version, text);
  FUZZ_CHECK(streamed.error_field == whole.error_field, text);
}

void list(std::string_view text, const k8s::NodeParseOptions& options) {
  std::istringstream in{std::string(text)};
  std::vector<k8s::ParsedNode> nodes;
  k8s::ListPage page;
  std::string error;
  const bool ok = k8s::read_node_list(
      in, options, [&](k8s::ParsedNode&& node) { nodes.push_back(std::move(node)); }, page, error);
  FUZZ_CHECK(ok || !error.empty(), text);
  if (!ok) return;

  // The same body parsed whole (when it is a single strict JSON value).
  const auto whole = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (whole.is_discarded()) return;
  FUZZ_CHECK(page.status.has_value() == k8s::parse_status(whole).has_value(), text);
  if (page.status) return;
  // Items are handed over as containers complete, so scalar items are never nodes.
  std::vector<k8s::ParsedNode> expected;
  auto items = whole.find("items");
  if (items != whole.end() && items->is_array()) {
    for (const auto& item : *items)
      if (item.is_structured()) expected.push_back(k8s::parse_node(item, options));
  }
  // A duplicated "items" key: nlohmann keeps the last, the stream hands over both.
  if (nodes.size() != expected.size()) return;
  for (std::size_t i = 0; i < nodes.size(); ++i) check_same(nodes[i], expected[i], text);
}

void watch(std::string_view text, const k8s::NodeParseOptions& options) {
  std::istringstream in{std::string(text)};
  // Every event consumes at least one byte, so this ends; the bound is a second guard.
  for (std::size_t events = 0; events <= text.size(); ++events) {
    k8s::WatchEvent event;
    std::string error;
    const auto result = k8s::read_watch_event(in, options, event, error);
    if (result == k8s::ReadResult::kEnd) return;
    if (result == k8s::ReadResult::kError) {
      FUZZ_CHECK(!error.empty(), text);
      return;
    }
    FUZZ_CHECK(!event.type.empty(), text);
    if (event.type != "ERROR" && event.type != "BOOKMARK")
      FUZZ_CHECK(!event.node.node.name.empty(), text);
  }
  FUZZ_CHECK(false, "read_watch_event returned more events than there are bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);
  k8s::NodeParseOptions options;
  list(text, options);
  watch(text, options);

  // A single watch event parsed whole must give the same node as the stream.
  const auto whole = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (whole.is_object() && whole.contains("object") && whole["object"].is_object()) {
    std::istringstream in{std::string(text)};
    k8s::WatchEvent event;
    std::string error;
    if (k8s::read_watch_event(in, options, event, error) == k8s::ReadResult::kEvent &&
        event.type != "ERROR" && event.type != "BOOKMARK")
      check_same(event.node, k8s::parse_node(whole["object"], options), text);
  }
  return 0;
}
