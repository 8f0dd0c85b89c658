// The report model: a NodeReport ready to render, every figure already the text people read,
// so the doctor and the status page say the same words. The JSON renders the NodeReport
// itself, all of it, for machines. Pure.
#pragma once

#include <string>
#include <vector>

#include "analysis/verdict.h"

namespace podpath::report {

// A cell's verdict, from the findings on its peer: "" (fine), "warning" or "critical".
// The findings use the analysis' bounds, which are the alerts' (tests/alerts checks it).
struct CellMarks {
  std::string row;        // the worst finding on the peer
  std::string peer;       // vxlan-public-exposed
  std::string carrier;    // flannel-drift
  std::string route;      // no-route
  std::string underlay;   // double-encapsulation
  std::string transport;  // route-via-derp
  std::string rtt;        // latency-high
  std::string loss;       // overlay-blocked, peer-unreachable
  std::string mtu;        // path-mtu-too-small
};

// One step of the road a pod packet to the peer takes: a place (this node, the transport,
// the peer) or a link between two (a device and its MTU).
struct RoadStep {
  enum class Kind { kNode, kLink, kTransport, kPeer };
  Kind kind = Kind::kNode;
  std::string label;   // "lima-k3s-agent", "flannel.1", "DERP 'tok'"
  std::string detail;  // "MTU 1450", "vxlan", "" ...
  std::string marks;   // "" or the severity of the finding this step shows
};

// One row of the peer table.
struct PeerRow {
  std::string peer;       // road_name(): "lima-k3s-agent-2", "lima-k3s-agent-2 (IPv6)"
  std::string group;      // empty when the peer has none
  std::string carrier;    // analysis::to_string(Carrier): vxlan, host-gw, direct-routing, ...
  std::string route;      // "flannel.1 (main)", "tailscale0 (52)", "ENETUNREACH", "-"
  std::string underlay;   // the device carrying the encapsulated packets; empty when none
  std::string transport;  // "lan", "tailscale-derp tok", ...
  std::string rtt;        // overlay RTT: "0.40 ms", "5.5 ms", "100 ms", "-"
  std::string loss;       // overlay loss: "0%", "100%", "-"
  std::string mtu;        // "computed/probed": "1230/1200", "1500/-"
  std::string state;      // "NotReady", "cordoned"; empty for a schedulable node
  CellMarks marks;
  std::vector<RoadStep> road;  // this node ... the peer
};

// Every finding of one code: the peers it affects, each one's evidence, the fix once (or
// each distinct fix, when the figures in it differ per peer).
struct FindingGroup {
  analysis::Severity severity = analysis::Severity::kInfo;
  std::string code;
  std::vector<std::string> peers;     // in the analysis' order; empty for the node's own
  std::vector<std::string> evidence;  // the findings' messages, in the same order
  std::vector<std::string> fixes;     // distinct, in order of first appearance
};

struct ReportModel {
  std::string node;
  std::string group;     // empty when this node has none
  std::string identity;  // one line: backend, VNI, VTEP, MAC, subnet, MTU
  // This node in tailscaled's eyes: one line (state, home DERP region, node key expiry),
  // then one line per health message; empty without a Tailscale status.
  std::vector<std::string> tailscale;
  std::vector<analysis::LinkSummary> device_chain;  // the overlay device and what carries it
  std::vector<PeerRow> peers;                       // sorted by peer name
  std::vector<analysis::Finding> findings;          // critical first, then by code and peer
  std::vector<FindingGroup> finding_groups;         // the findings by code, in that order
  std::vector<std::string> notes;                   // what could not be seen
};

ReportModel make_model(const analysis::NodeReport& report);

// The findings by code, in the order the analysis gave them (critical first, then by code).
std::vector<FindingGroup> group_findings(const std::vector<analysis::Finding>& findings);

// How a report names one road to a peer: the name alone for IPv4 (so single-stack reports
// read as before), "NAME (IPv6)" for the IPv6 road.
std::string road_name(const std::string& peer, model::Family family);

}  // namespace podpath::report
