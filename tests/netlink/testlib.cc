#include "testlib.h"

#include <fmt/format.h>
#include <string.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "netlink/parse.h"

namespace podpath::netlink::testing {

using nlohmann::json;

std::vector<model::IpAddress> topology_destinations() {
  std::vector<model::IpAddress> out;
  for (const char* text :
       {"10.42.0.0", "10.42.1.0", "10.42.3.0", "10.42.5.0", "10.42.6.0", "10.42.7.0", "172.26.2.70",
        "172.26.3.146", "192.168.105.3", "203.0.113.9", "198.51.100.7", "10.42.2.0", "10.42.2.5",
        "192.0.2.77", "100.99.0.1"})
    out.push_back(*model::IpAddress::parse(text));
  return out;
}

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

namespace {

const Dump kDumps[] = {Dump::kLinks,  Dump::kRoutes,     Dump::kRoutes6,     Dump::kRules,
                       Dump::kRules6, Dump::kNeighbours, Dump::kNeighbours6, Dump::kFdb};

std::string lookup_file(const std::string& dir, model::IpAddress destination) {
  return fmt::format("{}/route-get-{}.bin", dir, destination.to_string());
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

class FixtureSession final : public KernelSession {
 public:
  explicit FixtureSession(std::string dir) : dir_(std::move(dir)) {}
  Reply dump(Dump what) override {
    std::string path = fmt::format("{}/{}.bin", dir_, to_string(what));
    Bytes bytes = read_bytes(path);
    if (bytes.empty()) return {{}, "no capture " + path};
    return {std::move(bytes), {}};
  }
  Reply route_get(const model::IpAddress& destination) override {
    Bytes bytes = read_bytes(lookup_file(dir_, destination));
    if (bytes.empty()) return {{}, "no capture for route get " + destination.to_string()};
    return {std::move(bytes), {}};
  }

 private:
  std::string dir_;
};

json parse_json(const std::string& text) {
  return text.empty() ? json::array() : json::parse(text);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string str(const json& object, const char* key, const std::string& fallback = "") {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// iproute2 prints a host destination (/32, /128) without its length and the default route as
// "default".
std::string route_dst(const std::optional<model::IpPrefix>& prefix) {
  if (!prefix) return "default";
  if (prefix->length() == prefix->max_length()) return prefix->address().to_string();
  return prefix->to_string();
}

template <typename T>
std::string opt(const std::optional<T>& value) {
  return value ? value->to_string() : "";
}

std::string hex(const std::optional<std::uint32_t>& value) {
  return value ? fmt::format("{:#x}", *value) : "";
}

void diff_sets(const char* what, std::multiset<std::string> ours, std::multiset<std::string> theirs,
               std::vector<std::string>& out) {
  std::vector<std::string> only_ours, only_theirs;
  std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(),
                      std::back_inserter(only_ours));
  std::set_difference(theirs.begin(), theirs.end(), ours.begin(), ours.end(),
                      std::back_inserter(only_theirs));
  for (const auto& entry : only_ours)
    out.push_back(fmt::format("{}: podpath only: {}", what, entry));
  for (const auto& entry : only_theirs)
    out.push_back(fmt::format("{}: iproute2 only: {}", what, entry));
}

}  // namespace

std::string save_capture(KernelSession& session, const std::vector<model::IpAddress>& destinations,
                         const std::string& dir) {
  for (Dump what : kDumps) {
    Reply reply = session.dump(what);
    if (!reply.error.empty()) return reply.error;
    write_bytes(fmt::format("{}/{}.bin", dir, to_string(what)), reply.bytes);
  }
  for (auto destination : destinations) {
    Reply reply = session.route_get(destination);
    if (!reply.error.empty()) return reply.error;
    write_bytes(lookup_file(dir, destination), reply.bytes);
  }
  return {};
}

base::Result<std::unique_ptr<KernelSession>> FixtureSource::open() {
  return std::unique_ptr<KernelSession>(std::make_unique<FixtureSession>(dir_));
}

std::string run(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    if (status != nullptr) *status = -1;
    return output;
  }
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int rc = pclose(pipe);
  if (status != nullptr) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return output;
}

Iproute2View run_iproute2(const std::string& prefix,
                          const std::vector<model::IpAddress>& destinations) {
  Iproute2View view;
  view.links = parse_json(run(prefix + "ip -d -j link show"));
  // Both families, IPv4 first, as podpath dumps them.
  auto both = [&](const std::string& command) {
    json out = parse_json(run(prefix + "ip -4 -j " + command));
    for (auto& item : parse_json(run(prefix + "ip -6 -j " + command))) out.push_back(item);
    return out;
  };
  view.routes = both("route show table all");
  view.rules = both("rule show");
  view.neighbours = both("neigh show nud all");
  view.fdb = parse_json(run(prefix + "bridge -j fdb show"));
  for (auto destination : destinations) {
    int status = 0;
    std::string address = destination.to_string();
    std::string out = run(prefix + "ip -j route get " + address + " 2>&1", &status);
    if (status == 0) {
      view.route_get[address] = json::parse(out).at(0);
    } else {
      // "RTNETLINK answers: Network is unreachable"
      auto colon = out.find(": ");
      std::string message = colon == std::string::npos ? out : out.substr(colon + 2);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      view.route_get[address] = json{{"error", message}};
    }
  }
  return view;
}

void save_iproute2(const Iproute2View& view, const std::string& dir) {
  std::ofstream(dir + "/links.json") << view.links.dump(1) << "\n";
  std::ofstream(dir + "/routes.json") << view.routes.dump(1) << "\n";
  std::ofstream(dir + "/rules.json") << view.rules.dump(1) << "\n";
  std::ofstream(dir + "/neighbours.json") << view.neighbours.dump(1) << "\n";
  std::ofstream(dir + "/fdb.json") << view.fdb.dump(1) << "\n";
  json lookups = json::object();
  for (const auto& [address, answer] : view.route_get) lookups[address] = answer;
  std::ofstream(dir + "/route-get.json") << lookups.dump(1) << "\n";
}

Iproute2View load_iproute2(const std::string& dir) {
  Iproute2View view;
  view.links = parse_json(read_text(dir + "/links.json"));
  view.routes = parse_json(read_text(dir + "/routes.json"));
  view.rules = parse_json(read_text(dir + "/rules.json"));
  view.neighbours = parse_json(read_text(dir + "/neighbours.json"));
  view.fdb = parse_json(read_text(dir + "/fdb.json"));
  json lookups = json::parse(read_text(dir + "/route-get.json"));
  for (const auto& [address, answer] : lookups.items()) view.route_get[address] = answer;
  return view;
}

std::vector<std::string> compare(const RouteLookup& lookup, const json& expected) {
  std::vector<std::string> out;
  const std::string where = "route get " + lookup.destination.to_string();
  if (expected.contains("error")) {
    std::string theirs = expected["error"].get<std::string>();
    std::string ours = lookup.ok() ? "success" : strerror(lookup.error);
    if (ours != theirs)
      out.push_back(fmt::format("{}: podpath {}, iproute2 {}", where, ours, theirs));
    return out;
  }
  if (!lookup.ok()) {
    out.push_back(fmt::format("{}: podpath {}, iproute2 a route", where, lookup.error_name));
    return out;
  }
  auto check = [&](const char* field, const std::string& ours, const std::string& theirs) {
    if (ours != theirs)
      out.push_back(
          fmt::format("{}: {} podpath \"{}\" iproute2 \"{}\"", where, field, ours, theirs));
  };
  check("dev", lookup.device, str(expected, "dev"));
  check("table", table_name(lookup.table), str(expected, "table", "main"));
  check("prefsrc", opt(lookup.prefsrc), str(expected, "prefsrc"));
  check("gateway", opt(lookup.gateway), str(expected, "gateway"));
  check("type", lookup.type, str(expected, "type", "unicast"));
  return out;
}

std::vector<std::string> compare(const KernelSnapshot& snapshot, const Iproute2View& view) {
  std::vector<std::string> out;

  std::multiset<std::string> ours, theirs;
  for (const auto& link : snapshot.links) {
    std::string row = fmt::format("{} kind={} mtu={} operstate={}", link.name, link.kind, link.mtu,
                                  link.operstate);
    if (link.vxlan)
      row += fmt::format(" vni={} local={} port={} underlay={}", link.vxlan->vni, link.vxlan->local,
                         link.vxlan->dstport, link.vxlan->underlay_device);
    ours.insert(row);
  }
  for (const auto& link : view.links) {
    std::string kind = "device";
    if (link.contains("linkinfo") && link["linkinfo"].contains("info_kind"))
      kind = link["linkinfo"]["info_kind"].get<std::string>();
    std::string row = fmt::format("{} kind={} mtu={} operstate={}", str(link, "ifname"), kind,
                                  str(link, "mtu"), lower(str(link, "operstate")));
    if (kind == "vxlan") {
      const json& data = link["linkinfo"]["info_data"];
      row += fmt::format(" vni={} local={} port={} underlay={}", str(data, "id"),
                         str(data, "local"), str(data, "port"), str(data, "link"));
    }
    theirs.insert(row);
  }
  diff_sets("link", ours, theirs, out);

  ours.clear();
  theirs.clear();
  for (const auto& route : snapshot.routes)
    ours.insert(fmt::format("table={} type={} dst={} gw={} dev={} onlink={} src={}",
                            table_name(route.table), route.type, route_dst(route.destination),
                            opt(route.gateway), route.device, route.onlink, opt(route.prefsrc)));
  for (const auto& route : view.routes) {
    bool onlink = false;
    for (const auto& flag : route.value("flags", json::array()))
      if (flag == "onlink") onlink = true;
    theirs.insert(fmt::format("table={} type={} dst={} gw={} dev={} onlink={} src={}",
                              str(route, "table", "main"), str(route, "type", "unicast"),
                              str(route, "dst"), str(route, "gateway"), str(route, "dev"), onlink,
                              str(route, "prefsrc")));
  }
  diff_sets("route", ours, theirs, out);

  ours.clear();
  theirs.clear();
  for (const auto& rule : snapshot.rules) {
    bool lookup = rule.action == "lookup";
    ours.insert(fmt::format("{} action={} table={} fwmark={} fwmask={} to={}", rule.priority,
                            rule.action, lookup ? table_name(rule.table) : "", hex(rule.fwmark),
                            rule.fwmark ? hex(rule.fwmask) : "",
                            rule.destination ? rule.destination->to_string() : ""));
  }
  for (const auto& rule : view.rules) {
    std::string to;
    if (rule.contains("dst"))
      to = fmt::format("{}/{}", str(rule, "dst"), str(rule, "dstlen", "32"));
    theirs.insert(
        fmt::format("{} action={} table={} fwmark={} fwmask={} to={}", str(rule, "priority"),
                    str(rule, "action", "lookup"), str(rule, "table"), str(rule, "fwmark"),
                    // iproute2 omits a full mask
                    str(rule, "fwmask", rule.contains("fwmark") ? "0xffffffff" : ""), to));
  }
  diff_sets("rule", ours, theirs, out);

  ours.clear();
  theirs.clear();
  for (const auto& entry : snapshot.neighbours)
    ours.insert(fmt::format("{} dev={} lladdr={} permanent={}", entry.address.to_string(),
                            entry.device, entry.mac, entry.permanent()));
  for (const auto& entry : view.neighbours) {
    bool permanent = false;
    for (const auto& state : entry.value("state", json::array()))
      if (state == "PERMANENT") permanent = true;
    theirs.insert(fmt::format("{} dev={} lladdr={} permanent={}", str(entry, "dst"),
                              str(entry, "dev"), str(entry, "lladdr"), permanent));
  }
  diff_sets("neighbour", ours, theirs, out);

  ours.clear();
  theirs.clear();
  for (const auto& entry : snapshot.fdb)
    ours.insert(fmt::format("{} dev={} dst={} permanent={}", entry.mac, entry.device,
                            opt(entry.dst), entry.permanent()));
  for (const auto& entry : view.fdb)
    theirs.insert(fmt::format("{} dev={} dst={} permanent={}", str(entry, "mac"),
                              str(entry, "ifname"), str(entry, "dst"),
                              str(entry, "state") == "permanent"));
  diff_sets("fdb", ours, theirs, out);
  return out;
}

}  // namespace podpath::netlink::testing
