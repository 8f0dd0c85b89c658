// The Node payloads other people published (tests/fixtures/nodes/, sources in
// tests/fixtures/SOURCES.md) as the API's JSON objects, for the tests that parse them
// (tests/kubernetes) and the ones that judge the clusters they describe (tests/analysis).
// PODPATH_TESTDATA must name the tests/ directory.
#pragma once

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace podpath::node_fixtures {

using nlohmann::json;

// kubectl's YAML as the API's JSON; every scalar stays a string, as the API's are.
inline json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.as<std::string>();
    default:
      return nullptr;
  }
}

// The objects of a fixture: a Node, the items of a List, the row objects of a kubectl Table
// (PartialObjectMetadata: metadata only), or a bare annotation block as a Node's annotations.
inline std::vector<json> objects_in(const std::string& name) {
  std::ifstream in(std::string(PODPATH_TESTDATA) + "/fixtures/nodes/" + name);
  std::stringstream text;
  text << in.rdbuf();
  json document =
      name.ends_with(".json") ? json::parse(text.str()) : yaml_to_json(YAML::Load(text.str()));
  if (document.contains("items")) return document["items"].get<std::vector<json>>();
  if (document.contains("rows")) {
    std::vector<json> objects;
    for (const auto& row : document["rows"]) objects.push_back(row["object"]);
    return objects;
  }
  if (!document.contains("metadata")) return {json{{"metadata", {{"annotations", document}}}}};
  return {document};
}

}  // namespace podpath::node_fixtures
