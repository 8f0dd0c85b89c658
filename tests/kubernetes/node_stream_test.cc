#include "kubernetes/node_stream.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace podpath::kubernetes {
namespace {

using nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "missing " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string fixture(const std::string& name) {
  return read_text(std::string(PODPATH_LAB_FIXTURES) + "/" + name);
}

std::vector<std::string> node_fixtures() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(PODPATH_LAB_FIXTURES)) {
    std::string name = entry.path().filename();
    if (entry.path().extension() == ".json" && name.find("nodelist") == std::string::npos)
      names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The pruned parse must give exactly what parsing the whole object gives: the filter
// keeps every field parse_node() reads.
TEST(NodeStream, PrunedWatchObjectParsesLikeTheWholeNode) {
  auto names = node_fixtures();
  ASSERT_GE(names.size(), 15u);
  for (const auto& name : names) {
    const std::string text = fixture(name);
    ParsedNode whole = parse_node(json::parse(text), NodeParseOptions{});
    std::istringstream stream(R"({"type":"MODIFIED","object":)" + text + "}\n");
    WatchEvent event;
    std::string error;
    ASSERT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kEvent)
        << name << ": " << error;
    EXPECT_EQ(event.type, "MODIFIED");
    EXPECT_EQ(event.node.node, whole.node) << name;
    EXPECT_EQ(event.node.error_field, whole.error_field) << name;
    EXPECT_EQ(event.resource_version, whole.resource_version) << name;
  }
}

TEST(NodeStream, PruningKeepsOnlyTheWhitelist) {
  const std::string text = fixture("vxlan-server.json");
  PruningSax sax(Scope::kNodeRoot, NodeParseOptions{}, nullptr);
  ASSERT_TRUE(json::sax_parse(text, &sax));
  const json& kept = sax.result();
  EXPECT_EQ(kept["metadata"]["labels"], json({{"topology.kubernetes.io/zone", "tokyo"}}));
  for (const auto& [key, value] : kept["metadata"]["annotations"].items())
    EXPECT_TRUE(key.starts_with("flannel.alpha.coreos.com/") || key.starts_with("k3s.io/")) << key;
  EXPECT_FALSE(kept["metadata"]["annotations"].contains("k3s.io/node-args"));
  EXPECT_FALSE(kept["metadata"].contains("uid"));
  EXPECT_FALSE(kept["status"].contains("nodeInfo"));
  EXPECT_FALSE(kept["status"].contains("capacity"));
  for (const auto& condition : kept["status"]["conditions"]) {
    EXPECT_EQ(condition.size(), 2u) << condition.dump();
  }
  EXPECT_LT(kept.dump().size() * 3, text.size()) << kept.dump();
}

TEST(NodeStream, ListCallsBackPerItemWithTheListVersion) {
  std::istringstream stream(fixture("field-report-nodelist.json"));
  std::vector<std::string> names;
  ListPage page;
  std::string error;
  ASSERT_TRUE(read_node_list(
      stream, NodeParseOptions{}, [&](ParsedNode&& node) { names.push_back(node.node.name); }, page,
      error))
      << error;
  EXPECT_EQ(names,
            (std::vector<std::string>{"ip-172-26-2-70", "ip-172-26-3-146", "lima-k3s-agent",
                                      "lima-k3s-agent-2", "lima-k3s-agent-3", "lima-k3s-agent-4"}));
  EXPECT_FALSE(page.resource_version.empty());
  EXPECT_EQ(page.continue_token, "");
  EXPECT_FALSE(page.status);
}

TEST(NodeStream, ListPageWithContinueToken) {
  std::istringstream stream(
      R"({"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"1006",)"
      R"("continue":"abc","remainingItemCount":4},"items":[{"metadata":{"name":"a"}}]})");
  int count = 0;
  ListPage page;
  std::string error;
  ASSERT_TRUE(read_node_list(
      stream, NodeParseOptions{}, [&](ParsedNode&&) { ++count; }, page, error));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(page.resource_version, "1006");
  EXPECT_EQ(page.continue_token, "abc");
}

TEST(NodeStream, ListBodyThatIsAStatus) {
  std::istringstream stream(
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"The provided continue parameter is too old","reason":"Expired","code":410})");
  ListPage page;
  std::string error;
  ASSERT_TRUE(read_node_list(
      stream, NodeParseOptions{}, [](ParsedNode&&) {}, page, error));
  ASSERT_TRUE(page.status);
  EXPECT_EQ(page.status->code, 410);
  EXPECT_EQ(page.status->reason, "Expired");
}

TEST(NodeStream, ListRejectsMalformedAndForeignBodies) {
  for (const char* text : {"", "{", R"({"kind":"PodList","items":[]})", "[1,2]", "<html>"}) {
    std::istringstream stream(text);
    ListPage page;
    std::string error;
    EXPECT_FALSE(read_node_list(
        stream, NodeParseOptions{}, [](ParsedNode&&) {}, page, error))
        << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(NodeStream, WatchStreamOfSeveralEventsThenCleanEnd) {
  const std::string node = fixture("vxlan-agent.json");
  std::istringstream stream(
      R"({"type":"ADDED","object":)" + node + "}\n" +
      R"({"type":"BOOKMARK","object":{"kind":"Node","apiVersion":"v1","metadata":{"resourceVersion":"2001"}}})"
      "\n" +
      R"({"type":"DELETED","object":)" + node + "}\n" +
      R"j({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)j"
      R"j("status":"Failure","message":"too old resource version: 5 (1000)",)j"
      R"j("reason":"Expired","code":410}})j"
      "\n\n");
  WatchEvent event;
  std::string error;
  ASSERT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kEvent);
  EXPECT_EQ(event.type, "ADDED");
  EXPECT_EQ(event.node.node.name, "lima-k3s-agent");
  EXPECT_EQ(event.resource_version, "1014");
  ASSERT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kEvent);
  EXPECT_EQ(event.type, "BOOKMARK");
  EXPECT_EQ(event.resource_version, "2001");
  ASSERT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kEvent);
  EXPECT_EQ(event.type, "DELETED");
  ASSERT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kEvent);
  EXPECT_EQ(event.type, "ERROR");
  EXPECT_EQ(event.status.code, 410);
  EXPECT_EQ(event.status.reason, "Expired");
  EXPECT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kEnd);
}

TEST(NodeStream, WatchStreamCutInTheMiddleOfAnEventIsAnError) {
  const std::string node = fixture("vxlan-agent.json");
  std::string full = R"({"type":"ADDED","object":)" + node + "}\n";
  std::istringstream stream(full + full.substr(0, full.size() / 2));
  WatchEvent event;
  std::string error;
  ASSERT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kEvent);
  EXPECT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kError);
  EXPECT_FALSE(error.empty());
}

TEST(NodeStream, WatchEventsWithoutTypeOrNameAreErrors) {
  for (const char* text : {R"({"object":{}})", R"({"type":"ADDED"})",
                           R"({"type":"ADDED","object":{"metadata":{}}})", "nonsense"}) {
    std::istringstream stream(text);
    WatchEvent event;
    std::string error;
    EXPECT_EQ(read_watch_event(stream, NodeParseOptions{}, event, error), ReadResult::kError)
        << text;
  }
}

}  // namespace
}  // namespace podpath::kubernetes
