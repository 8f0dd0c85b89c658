// Streaming readers for the API's NodeList and watch-event bodies. They parse straight
// from a std::istream (fed by the HTTP transfer as bytes arrive) with a SAX handler that
// builds only the fields parse_node() reads and hands each list item over as soon as it is
// complete, so a 5,000-node list is never held in memory, neither as text nor as JSON.
#pragma once

#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "kubernetes/node.h"

namespace podpath::kubernetes {

// Where a SAX value sits, which decides what of it is kept.
enum class Scope : std::uint8_t {
  kListRoot,
  kListMetadata,
  kListItems,
  kWatchRoot,
  kNodeRoot,
  kNodeMetadata,
  kNodeLabels,
  kNodeAnnotations,
  kNodeSpec,
  kNodeStatus,
  kNodeConditions,
  kNodeCondition,
  kWhole,  // keep everything below
};

// A SAX handler for nlohmann::json that builds a pruned document. Items of a NodeList
// (root scope kListRoot) go to on_item instead of into the document.
class PruningSax {
 public:
  using json = nlohmann::json;
  PruningSax(Scope root, const NodeParseOptions& options, std::function<void(json&&)> on_item);

  json& result() { return result_; }
  const std::string& error() const { return error_; }

  // The nlohmann::json SAX interface.
  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) { return value(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return value(json(v)); }
  bool string(json::string_t& v) { return value(json(std::move(v))); }
  bool binary(json::binary_t&) { return value(json(nullptr)); }
  bool start_object(std::size_t) { return start(json::object()); }
  bool end_object() { return end(); }
  bool start_array(std::size_t) { return start(json::array()); }
  bool end_array() { return end(); }
  bool key(json::string_t& k);
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex);

 private:
  struct Frame {
    json value;
    Scope scope;
    std::string key;  // the pending key while value is an object
    bool emit = false;
  };
  // The scope of the next value under the top frame, or nullopt to drop it.
  std::optional<Scope> next_scope() const;
  std::optional<Scope> child_scope(Scope parent, std::string_view key) const;
  bool value(json&& v);
  bool start(json&& container);
  bool end();
  void attach(json&& v);

  Scope root_;
  std::string group_label_;
  AnnotationKeys annotation_keys_;
  std::function<void(json&&)> on_item_;
  std::vector<Frame> stack_;
  int skip_depth_ = 0;  // > 0 while inside a dropped container
  json result_;
  std::string error_;
};

// Status fields of an API error body or ERROR watch event.
struct ApiStatus {
  int code = 0;
  std::string reason;
  std::string message;
};

struct ListPage {
  std::string resource_version;
  std::string continue_token;
  std::optional<ApiStatus> status;  // the body was a Status, not a NodeList
};

// Reads one NodeList page from `in`, calling on_node for every item as it is parsed.
// Returns false with `error` set when the body is not JSON.
bool read_node_list(std::istream& in, const NodeParseOptions& options,
                    const std::function<void(ParsedNode&&)>& on_node, ListPage& page,
                    std::string& error);

struct WatchEvent {
  std::string type;              // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  ParsedNode node;               // ADDED, MODIFIED, DELETED
  std::string resource_version;  // of the object (the bookmark's for BOOKMARK)
  ApiStatus status;              // ERROR
};

enum class ReadResult { kEvent, kEnd, kError };

// Reads the next {"type":...,"object":...} of a watch stream; kEnd at a clean end of
// stream between events.
ReadResult read_watch_event(std::istream& in, const NodeParseOptions& options, WatchEvent& event,
                            std::string& error);

// A Status body (errors come as {"kind":"Status","code":410,...}).
std::optional<ApiStatus> parse_status(const nlohmann::json& body);

}  // namespace podpath::kubernetes
