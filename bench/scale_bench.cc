// Prints what the probe graph (exporter/prober/probe_graph.h) gives and costs for 10, 100,
// 1,000 and 5,000 nodes in several group layouts: in-degree (min/median/max), the largest
// out-degree against the budget, group-pair coverage, how many nodes' peer sets change when
// one node joins and after 1 % churn (1 % of the nodes leave, as many new ones join), and the
// CPU time one node takes to compute the whole graph (the thread's CPU clock, so that other
// work on a loaded machine does not count; median of 5). A program that prints figures, not a
// timed test: run build/bench/podpath-scale-bench [--max-peers N] [--nodes N]. With --stdin it
// reads one layout ("<name> <group>" per line, group may be missing) and prints its figures as
// one JSON object (bench/scale.py gives it the fake cluster the exporter sees).
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "prober/probe_graph.h"

using podpath::prober::GraphNode;
using podpath::prober::ProbeGraph;

namespace {

struct Layout {
  std::string name;
  std::size_t nodes;
  std::vector<GraphNode> (*make)(std::size_t);
};

std::string node_name(std::size_t i) {
  return fmt::format("node-{:05d}", i);
}

std::vector<GraphNode> one_group(std::size_t n) {
  std::vector<GraphNode> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back({node_name(i), ""});
  return out;
}

std::vector<GraphNode> groups_of(std::size_t n, std::size_t size) {
  std::vector<GraphNode> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({node_name(i), fmt::format("g{:03d}", i / size)});
  return out;
}

std::vector<GraphNode> groups_of_10(std::size_t n) {
  return groups_of(n, 10);
}
std::vector<GraphNode> groups_of_100(std::size_t n) {
  return groups_of(n, 100);
}

// Uneven sites: group sizes cycle through 1, 2, 3, 7, 40, 150; every 20th node has no label.
std::vector<GraphNode> mixed(std::size_t n) {
  static const std::size_t sizes[] = {1, 2, 3, 7, 40, 150};
  std::vector<GraphNode> out;
  std::size_t group = 0, in_group = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 20 == 19) {
      out.push_back({node_name(i), ""});
      continue;
    }
    out.push_back({node_name(i), fmt::format("m{:03d}", group)});
    if (++in_group == sizes[group % 6]) {
      ++group;
      in_group = 0;
    }
  }
  return out;
}

std::vector<std::set<std::string>> peer_sets(const ProbeGraph& graph) {
  std::vector<std::set<std::string>> out(graph.size());
  for (std::size_t i = 0; i < graph.size(); ++i)
    for (auto v : graph.out(i)) out[i].insert(graph.node(v).name);
  return out;
}

struct Change {
  std::size_t nodes_changed = 0;  // survivors whose peer set changed
  std::size_t survivors = 0;
  std::size_t edges_changed = 0;  // peers added or removed, summed over survivors
};

Change compare(const ProbeGraph& before, const ProbeGraph& after) {
  auto a = peer_sets(before), b = peer_sets(after);
  Change change;
  for (std::size_t i = 0; i < before.size(); ++i) {
    auto j = after.find(before.node(i).name);
    if (!j) continue;
    ++change.survivors;
    std::vector<std::string> diff;
    std::set_symmetric_difference(a[i].begin(), a[i].end(), b[*j].begin(), b[*j].end(),
                                  std::back_inserter(diff));
    if (!diff.empty()) ++change.nodes_changed;
    change.edges_changed += diff.size();
  }
  return change;
}

// A node that joins one of the existing groups (the group of node i).
GraphNode newcomer(const std::vector<GraphNode>& nodes, std::size_t i) {
  return {fmt::format("new-{:05d}", i), nodes[(i * 7919) % nodes.size()].group};
}

double thread_cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double build_ms(const std::vector<GraphNode>& nodes, std::size_t max_peers) {
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    const double start = thread_cpu_ms();
    ProbeGraph graph(nodes, max_peers);
    runs.push_back(thread_cpu_ms() - start);
    if (graph.size() == 0) std::abort();  // keep the build
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

struct Figures {
  std::size_t groups = 0;
  std::vector<std::size_t> in;  // sorted
  std::size_t max_out = 0;
  std::size_t covered = 0, pairs = 0;
  Change join, after_churn;
  std::size_t churn = 0;
  double build_ms = 0;

  double edges_per_changed() const {
    return after_churn.nodes_changed == 0 ? 0.0
                                          : static_cast<double>(after_churn.edges_changed) /
                                                static_cast<double>(after_churn.nodes_changed);
  }
};

Figures measure(const std::vector<GraphNode>& nodes, std::size_t max_peers) {
  ProbeGraph graph(nodes, max_peers);
  Figures f;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    f.in.push_back(graph.in_degree(i));
    f.max_out = std::max(f.max_out, graph.out(i).size());
  }
  std::sort(f.in.begin(), f.in.end());
  const auto& coverage = graph.coverage();
  f.groups = coverage.groups;
  f.covered = coverage.covered;
  f.pairs = coverage.pairs;

  auto joined = nodes;
  joined.push_back(newcomer(nodes, 0));
  f.join = compare(graph, ProbeGraph(joined, max_peers));

  const std::size_t churn = std::max<std::size_t>(1, nodes.size() / 100);
  std::vector<GraphNode> churned;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (i % (nodes.size() / churn) != 0 || i / (nodes.size() / churn) >= churn)
      churned.push_back(nodes[i]);
  for (std::size_t i = 0; i < churn; ++i) churned.push_back(newcomer(nodes, i + 1));
  f.after_churn = compare(graph, ProbeGraph(churned, max_peers));
  f.churn = churn;
  f.build_ms = build_ms(nodes, max_peers);
  return f;
}

void row(const Layout& layout, std::size_t max_peers) {
  const Figures f = measure(layout.make(layout.nodes), max_peers);
  const auto& in = f.in;
  const Change& join = f.join;
  const Change& after_churn = f.after_churn;
  const std::size_t churn = f.churn;
  fmt::print(
      "| {:>5} | {:<16} | {:>6} | {:>4} / {:>4} / {:>4} | {:>3} | {:>12} | {:>5} ({:>4.1f} %) | "
      "{:>3}+{:<3} {:>5} ({:>5.1f} %), {:>4.1f} peers each | {:>8.2f} |\n",
      layout.nodes, layout.name, f.groups, in.front(), in[in.size() / 2], in.back(), f.max_out,
      f.pairs == 0 ? std::string("-") : fmt::format("{}/{}", f.covered, f.pairs),
      join.nodes_changed, 100.0 * join.nodes_changed / join.survivors, churn, churn,
      after_churn.nodes_changed, 100.0 * after_churn.nodes_changed / after_churn.survivors,
      f.edges_per_changed(), f.build_ms);
}

// One layout from stdin ("<name> [group]" per line) as one JSON object.
int print_json(std::size_t max_peers) {
  std::vector<GraphNode> nodes;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream fields(line);
    GraphNode node;
    if (!(fields >> node.name)) continue;
    fields >> node.group;
    nodes.push_back(std::move(node));
  }
  if (nodes.size() < 2) {
    std::fprintf(stderr, "--stdin: want at least two \"<name> [group]\" lines\n");
    return 2;
  }
  const Figures f = measure(nodes, max_peers);
  fmt::print(
      "{{\"nodes\": {}, \"max_peers\": {}, \"groups\": {}, \"in_degree\": {{\"min\": {}, "
      "\"median\": {}, \"max\": {}}}, \"max_out\": {}, \"group_pairs\": {{\"covered\": {}, "
      "\"pairs\": {}}}, \"join\": {{\"nodes_changed\": {}, \"survivors\": {}}}, \"churn\": "
      "{{\"left\": {}, \"joined\": {}, \"nodes_changed\": {}, \"survivors\": {}, "
      "\"peers_changed_each\": {:.2f}}}, \"graph_cpu_ms\": {:.2f}}}\n",
      nodes.size(), max_peers, f.groups, f.in.front(), f.in[f.in.size() / 2], f.in.back(),
      f.max_out, f.covered, f.pairs, f.join.nodes_changed, f.join.survivors, f.churn, f.churn,
      f.after_churn.nodes_changed, f.after_churn.survivors, f.edges_per_changed(), f.build_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t max_peers = 100;
  std::size_t only_nodes = 0;
  bool from_stdin = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-peers") == 0 && i + 1 < argc) {
      max_peers = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
      only_nodes = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--stdin") == 0) {
      from_stdin = true;
    } else {
      std::fprintf(stderr, "usage: %s [--max-peers N] [--nodes N | --stdin]\n", argv[0]);
      return 2;
    }
  }
  if (from_stdin) return print_json(max_peers);
  fmt::print(
      "probe graph, --prober.max-peers={} ({} probes/s per node at the default 1s "
      "interval, overlay + underlay)\n\n",
      max_peers, 2 * max_peers);
  fmt::print(
      "| nodes | layout           | groups | in-degree min/med/max | max out | group pairs "
      "covered | one join: nodes changed | 1 % churn (left+joined): nodes changed | "
      "whole graph, CPU ms |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|\n");
  const std::vector<Layout> layouts = {
      {"one group", 10, one_group},
      {"groups of 5", 10, [](std::size_t n) { return groups_of(n, 5); }},
      {"one group", 100, one_group},
      {"groups of 10", 100, groups_of_10},
      {"mixed", 100, mixed},
      {"one group", 1000, one_group},
      {"groups of 10", 1000, groups_of_10},
      {"groups of 100", 1000, groups_of_100},
      {"mixed", 1000, mixed},
      {"one group", 5000, one_group},
      {"groups of 10", 5000, groups_of_10},
      {"groups of 100", 5000, groups_of_100},
      {"mixed", 5000, mixed},
  };
  for (const auto& layout : layouts)
    if (only_nodes == 0 || layout.nodes == only_nodes) row(layout, max_peers);
  return 0;
}
