#include "kubernetes/node_stream.h"

#include <fmt/format.h>

#include <istream>

namespace podpath::kubernetes {

PruningSax::PruningSax(Scope root, const NodeParseOptions& options,
                       std::function<void(json&&)> on_item)
    : root_(root),
      group_label_(options.group_label),
      annotation_keys_(options.annotation_prefix),
      on_item_(std::move(on_item)) {}

// The whitelist of what parse_node() and the list/watch readers use. Everything else
// (managedFields, images, capacity, most annotations: the bulk of a Node) is dropped
// while it streams past.
std::optional<Scope> PruningSax::child_scope(Scope parent, std::string_view key) const {
  switch (parent) {
    case Scope::kWhole:
      return Scope::kWhole;
    case Scope::kListRoot:
      if (key == "metadata") return Scope::kListMetadata;
      if (key == "items") return Scope::kListItems;
      if (key == "kind" || key == "code" || key == "reason" || key == "message")
        return Scope::kWhole;
      return std::nullopt;
    case Scope::kListMetadata:
      if (key == "resourceVersion" || key == "continue") return Scope::kWhole;
      return std::nullopt;
    case Scope::kListItems:
      return Scope::kNodeRoot;
    case Scope::kWatchRoot:
      if (key == "type") return Scope::kWhole;
      if (key == "object") return Scope::kNodeRoot;
      return std::nullopt;
    case Scope::kNodeRoot:
      if (key == "metadata") return Scope::kNodeMetadata;
      if (key == "spec") return Scope::kNodeSpec;
      if (key == "status") return Scope::kNodeStatus;
      // An ERROR event's object is a Status.
      if (key == "kind" || key == "code" || key == "reason" || key == "message")
        return Scope::kWhole;
      return std::nullopt;
    case Scope::kNodeMetadata:
      if (key == "name" || key == "resourceVersion") return Scope::kWhole;
      if (key == "labels") return Scope::kNodeLabels;
      if (key == "annotations") return Scope::kNodeAnnotations;
      return std::nullopt;
    case Scope::kNodeLabels:
      if (key == group_label_) return Scope::kWhole;
      return std::nullopt;
    case Scope::kNodeAnnotations:
      if (annotation_keys_.contains(key)) return Scope::kWhole;
      return std::nullopt;
    case Scope::kNodeSpec:
      if (key == "podCIDR" || key == "podCIDRs" || key == "unschedulable") return Scope::kWhole;
      return std::nullopt;
    case Scope::kNodeStatus:
      if (key == "addresses") return Scope::kWhole;
      if (key == "conditions") return Scope::kNodeConditions;
      return std::nullopt;
    case Scope::kNodeConditions:
      return Scope::kNodeCondition;
    case Scope::kNodeCondition:
      if (key == "type" || key == "status") return Scope::kWhole;
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Scope> PruningSax::next_scope() const {
  if (stack_.empty()) return root_;
  const Frame& top = stack_.back();
  return child_scope(top.scope, top.value.is_object() ? std::string_view(top.key) : "");
}

bool PruningSax::key(json::string_t& k) {
  if (skip_depth_ == 0 && !stack_.empty()) stack_.back().key = std::move(k);
  return true;
}

void PruningSax::attach(json&& v) {
  if (stack_.empty()) {
    result_ = std::move(v);
    return;
  }
  Frame& top = stack_.back();
  if (top.value.is_object()) {
    top.value[top.key] = std::move(v);
  } else {
    top.value.push_back(std::move(v));
  }
}

bool PruningSax::value(json&& v) {
  if (skip_depth_ > 0) return true;
  if (next_scope()) attach(std::move(v));
  return true;
}

bool PruningSax::start(json&& container) {
  if (skip_depth_ > 0) {
    ++skip_depth_;
    return true;
  }
  auto scope = next_scope();
  if (!scope) {
    skip_depth_ = 1;
    return true;
  }
  bool emit = !stack_.empty() && stack_.back().scope == Scope::kListItems;
  stack_.push_back(Frame{std::move(container), *scope, {}, emit});
  return true;
}

bool PruningSax::end() {
  if (skip_depth_ > 0) {
    --skip_depth_;
    return true;
  }
  Frame frame = std::move(stack_.back());
  stack_.pop_back();
  if (frame.emit) {
    if (on_item_) on_item_(std::move(frame.value));
    return true;
  }
  attach(std::move(frame.value));
  return true;
}

bool PruningSax::parse_error(std::size_t position, const std::string& last_token,
                             const nlohmann::detail::exception& ex) {
  error_ = last_token.empty() ? ex.what()
                              : fmt::format("{} (at byte {}, near '{}')", ex.what(), position,
                                            last_token.substr(0, 40));
  return false;
}

std::optional<ApiStatus> parse_status(const nlohmann::json& body) {
  if (!body.is_object()) return std::nullopt;
  auto kind = body.find("kind");
  if (kind == body.end() || *kind != "Status") return std::nullopt;
  ApiStatus status;
  if (auto it = body.find("code"); it != body.end() && it->is_number_integer())
    status.code = it->get<int>();
  if (auto it = body.find("reason"); it != body.end() && it->is_string())
    status.reason = it->get<std::string>();
  if (auto it = body.find("message"); it != body.end() && it->is_string())
    status.message = it->get<std::string>();
  return status;
}

namespace {

std::string string_member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool read_node_list(std::istream& in, const NodeParseOptions& options,
                    const std::function<void(ParsedNode&&)>& on_node, ListPage& page,
                    std::string& error) {
  PruningSax sax(Scope::kListRoot, options,
                 [&](nlohmann::json&& item) { on_node(parse_node(item, options)); });
  // Not strict: the transfer may carry trailing whitespace; one value is one page.
  if (!nlohmann::json::sax_parse(in, &sax, nlohmann::json::input_format_t::json,
                                 /*strict=*/false)) {
    error = sax.error().empty() ? "malformed JSON" : sax.error();
    return false;
  }
  const auto& body = sax.result();
  page.status = parse_status(body);
  if (page.status) return true;
  if (!body.is_object() || string_member(body, "kind") != "NodeList") {
    error = "the body is not a NodeList";
    return false;
  }
  auto metadata = body.find("metadata");
  if (metadata != body.end()) {
    page.resource_version = string_member(*metadata, "resourceVersion");
    page.continue_token = string_member(*metadata, "continue");
  }
  return true;
}

ReadResult read_watch_event(std::istream& in, const NodeParseOptions& options, WatchEvent& event,
                            std::string& error) {
  // Events are newline-separated JSON objects; the stream may end cleanly between them.
  in >> std::ws;
  if (in.peek() == std::char_traits<char>::eof()) return ReadResult::kEnd;
  PruningSax sax(Scope::kWatchRoot, options, nullptr);
  if (!nlohmann::json::sax_parse(in, &sax, nlohmann::json::input_format_t::json,
                                 /*strict=*/false)) {
    error = sax.error().empty() ? "malformed watch event" : sax.error();
    return ReadResult::kError;
  }
  const auto& body = sax.result();
  event = WatchEvent{};
  event.type = string_member(body, "type");
  if (event.type.empty() || !body.contains("object")) {
    error = "watch event without type or object";
    return ReadResult::kError;
  }
  const auto& object = body["object"];
  if (event.type == "ERROR") {
    if (auto status = parse_status(object)) event.status = *status;
    return ReadResult::kEvent;
  }
  if (object.is_object() && object.contains("metadata"))
    event.resource_version = string_member(object["metadata"], "resourceVersion");
  if (event.type == "BOOKMARK") return ReadResult::kEvent;
  event.node = parse_node(object, options);
  if (event.node.node.name.empty()) {
    error = fmt::format("{} event for a node without a name", event.type);
    return ReadResult::kError;
  }
  return ReadResult::kEvent;
}

}  // namespace podpath::kubernetes
