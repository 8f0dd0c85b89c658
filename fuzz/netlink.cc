// rtnetlink replies (netlink/parse.h). The parsers are documented never to trust a length:
// a truncated or malformed message is a problem line, never a read past the buffer. Every
// parser reads the same bytes, so one corpus of captured replies serves them all.
#include <algorithm>

#include "base/errno.h"
#include "check.h"
#include "netlink/parse.h"

namespace nl = podpath::netlink;

namespace {

template <typename T>
void check_parsed(const nl::Parsed<T>& parsed, std::string_view what) {
  for (const auto& problem : parsed.problems) FUZZ_CHECK(!problem.empty(), what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nl::ByteView reply(data, size);

  const auto status = nl::scan_reply(reply);
  FUZZ_CHECK(status.error >= 0, "scan_reply: negative errno");

  nl::KernelSnapshot snapshot;
  auto links = nl::parse_links(reply);
  auto routes = nl::parse_routes(reply);
  auto rules = nl::parse_rules(reply);
  auto neighbours = nl::parse_neighbours(reply);
  auto fdb = nl::parse_fdb(reply);
  check_parsed(links, "links");
  check_parsed(routes, "routes");
  check_parsed(rules, "rules");
  check_parsed(neighbours, "neighbours");
  check_parsed(fdb, "fdb");
  for (const auto& link : links.items) {
    // MACs are lower-case hex pairs joined by ':'.
    for (char c : link.mac)
      FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':', link.mac);
    (void)link.operstate;
  }
  snapshot.links = std::move(links.items);
  snapshot.routes = std::move(routes.items);
  snapshot.rules = std::move(rules.items);
  snapshot.neighbours = std::move(neighbours.items);
  snapshot.fdb = std::move(fdb.items);
  nl::resolve_names(snapshot);

  // The canonical order is a total order: resolving an already resolved snapshot (any dump
  // order of the same state) changes nothing.
  nl::KernelSnapshot again = snapshot;
  nl::resolve_names(again);
  FUZZ_CHECK(again == snapshot, "resolve_names is not idempotent");

  auto lookup = nl::parse_route_lookup(reply, podpath::model::Ipv4{0x0a2a0000});
  FUZZ_CHECK(lookup.error >= 0, "route lookup: negative errno");
  FUZZ_CHECK(lookup.ok() == lookup.error_name.empty(), "route lookup: error without a name");
  nl::resolve_names(lookup, snapshot);
  (void)podpath::base::errno_name(lookup.error);

  (void)nl::mac_to_string(reply.first(std::min<std::size_t>(reply.size(), 32)));
  // Framing a reply into another keeps it whole.
  nl::Bytes framed;
  nl::append_message(framed, reply);
  FUZZ_CHECK(framed.size() >= reply.size() && framed.size() % 4 == 0, "append_message");
  FUZZ_CHECK(std::equal(reply.begin(), reply.end(), framed.begin()), "append_message");
  return 0;
}
