// The I/O side of the kernel view: one rtnetlink socket per run, returning raw replies
// that netlink/parse.h turns into structs. Tests replace KernelSession with replies
// captured from a real kernel (tests/netlink/testdata).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "model/ip.h"
#include "netlink/parse.h"

namespace podpath::netlink {

// Routes, rules and neighbours are dumped once per family (AF_INET, then AF_INET6): an
// AF_UNSPEC dump would also bring MPLS and other families nobody reads.
enum class Dump { kLinks, kRoutes, kRoutes6, kRules, kRules6, kNeighbours, kNeighbours6, kFdb };
std::string_view to_string(Dump dump);  // "links", "routes", ... (also the capture file names)

struct Reply {
  Bytes bytes;        // every message of the reply, see parse.h
  std::string error;  // empty when the exchange completed (the reply may still hold an errno)
  int attempts = 1;   // dumps: how many tries dump_with_retry needed
};

class KernelSession {
 public:
  virtual ~KernelSession() = default;
  // A complete, consistent dump (retried when the kernel flags it interrupted).
  virtual Reply dump(Dump what) = 0;
  // RTM_GETROUTE for one destination of either family with RTM_F_LOOKUP_TABLE.
  virtual Reply route_get(const model::IpAddress& destination) = 0;
};

// Opens sessions; the collector opens one per scrape.
class KernelSource {
 public:
  virtual ~KernelSource() = default;
  // A session, or why none can be opened (e.g. the socket is refused).
  virtual base::Result<std::unique_ptr<KernelSession>> open() = 0;
};

// rtnetlink through libnl-3, in the network namespace of the calling thread.
class NetlinkSource final : public KernelSource {
 public:
  base::Result<std::unique_ptr<KernelSession>> open() override;
};

// How often an interrupted dump is tried before giving up. A dump is interrupted when
// routes or links change while it runs; a few tries always got a clean one here.
inline constexpr int kDumpAttempts = 5;

// Runs attempt() until it returns a reply not flagged NLM_F_DUMP_INTR, at most
// `attempts` times. Separate from the socket so the retry rule is unit-tested.
Reply dump_with_retry(const std::function<Reply()>& attempt, int attempts = kDumpAttempts);

}  // namespace podpath::netlink
