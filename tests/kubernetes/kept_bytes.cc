// Prints how many heap bytes the cluster view keeps for a NodeList read from stdin: the
// watcher's map and the peer registry's copies (its node list and the merged PeerSet).
// bench/kubernetes_measure.py compares the exporter's resident memory with this.
#include <malloc.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "kubernetes/node_stream.h"
#include "model/peer.h"

int main() {
  using podpath::kubernetes::ListPage;
  using podpath::kubernetes::NodeParseOptions;
  using podpath::kubernetes::ParsedNode;
  // Small blocks (uordblks) plus mmapped large ones (hblkhd: vectors of thousands of nodes).
  auto in_use = [] {
    struct mallinfo2 info = mallinfo2();
    return static_cast<long long>(info.uordblks + info.hblkhd);
  };

  const long long start = in_use();
  std::map<std::string, podpath::model::ClusterNode> nodes;
  ListPage page;
  std::string error;
  if (!podpath::kubernetes::read_node_list(
          std::cin, NodeParseOptions{},
          [&](ParsedNode&& parsed) {
            std::string name = parsed.node.name;
            nodes.insert_or_assign(std::move(name), std::move(parsed.node));
          },
          page, error)) {
    std::fprintf(stderr, "kept_bytes: %s\n", error.c_str());
    return 1;
  }
  const long long after_map = in_use();

  podpath::model::PeerRegistry registry(nodes.empty() ? "" : nodes.begin()->first);
  std::vector<podpath::model::ClusterNode> list;
  for (const auto& [name, node] : nodes) list.push_back(node);
  registry.set_cluster_nodes(std::move(list));
  const long long after_registry = in_use();

  std::printf(
      "{\"nodes\": %zu, \"watcher_bytes\": %lld, \"registry_bytes\": %lld, "
      "\"sizeof_cluster_node\": %zu, \"sizeof_peer\": %zu}\n",
      nodes.size(), after_map - start, after_registry - after_map,
      sizeof(podpath::model::ClusterNode), sizeof(podpath::model::Peer));
  return 0;
}
