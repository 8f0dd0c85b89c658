// The report model: a NodeReport ready to render, every figure already the text people read,
// so the doctor and the status page say the same words. The JSON renders the NodeReport
// itself, all of it, for machines. Pure.
#pragma once

#include <string>
#include <vector>

#include "analysis/verdict.h"

namespace podpath::report {

// One row of the peer table.
struct PeerRow {
  std::string peer;
  std::string group;      // empty when the peer has none
  std::string carrier;    // vxlan, host-gw, wireguard, tailscale-subnet-route, none
  std::string route;      // "flannel.1 (main)", "tailscale0 (52)", "ENETUNREACH", "-"
  std::string underlay;   // the device carrying the encapsulated packets; empty when none
  std::string transport;  // "lan", "tailscale-derp tok", ...
  std::string rtt;        // overlay RTT: "0.40 ms", "5.5 ms", "100 ms", "-"
  std::string loss;       // overlay loss: "0%", "100%", "-"
  std::string mtu;        // "computed/probed": "1230/1200", "1500/-"
  std::string state;      // "NotReady", "cordoned"; empty for a schedulable node
};

struct ReportModel {
  std::string node;
  std::string group;     // empty when this node has none
  std::string identity;  // one line: backend, VNI, VTEP, MAC, subnet, MTU
  std::vector<analysis::LinkSummary> device_chain;  // the overlay device and what carries it
  std::vector<PeerRow> peers;                       // sorted by peer name
  std::vector<analysis::Finding> findings;          // critical first, then by code and peer
  std::vector<std::string> notes;                   // what could not be seen
};

ReportModel make_model(const analysis::NodeReport& report);

}  // namespace podpath::report
