#include "flannel/subnet_env.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace podpath::flannel {
namespace {

std::string read(const std::string& name) {
  std::ifstream in(std::string(PODPATH_TESTDATA) + "/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(SubnetEnv, FieldReportAgent) {
  // The file §2 of the field report shows on lima-k3s-agent.
  auto parsed = parse_subnet_env(read("lima-k3s-agent.env"));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->network, "10.42.0.0/16");
  EXPECT_EQ(parsed->subnet, "10.42.2.1/24");
  EXPECT_EQ(parsed->subnet_prefix, model::Ipv4Prefix::parse("10.42.2.0/24"));
  EXPECT_EQ(parsed->mtu, 1450);
  EXPECT_EQ(parsed->ipmasq, true);
  EXPECT_TRUE(parsed->ipv6_subnet.empty());
}

TEST(SubnetEnv, DualStack) {
  auto parsed = parse_subnet_env(read("dual-stack.env"));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->ipv6_network, "2001:cafe:42::/56");
  EXPECT_EQ(parsed->ipv6_subnet, "2001:cafe:42::1/64");
  EXPECT_EQ(parsed->mtu, 8951);
  EXPECT_EQ(parsed->ipmasq, false);
}

TEST(SubnetEnv, AcceptsCommentsBlankLinesCrlfAndUnknownFlannelKeys) {
  auto parsed = parse_subnet_env(
      "# written by hand\r\n\r\nFLANNEL_NETWORK=10.42.0.0/16\r\nFLANNEL_SUBNET=10.42.9.1/24\r\n"
      "FLANNEL_MTU=1230\r\nFLANNEL_SOMETHING_NEW=x\r\n");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->mtu, 1230);
  EXPECT_FALSE(parsed->ipmasq.has_value());
}

// Each malformed file and the exact error naming the bad line.
TEST(SubnetEnv, MalformedFilesNameTheLine) {
  const std::string ok_head = "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.2.1/24\n";
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {read("truncated.env"),
       "line 3: no newline at the end of the file (truncated or still being written?)"},
      {ok_head + "FLANNEL_MTU=abc\n", "line 3: FLANNEL_MTU=abc: not an MTU between 68 and 65535"},
      {ok_head + "FLANNEL_MTU=1450 \n",
       "line 3: FLANNEL_MTU=1450 : not an MTU between 68 and 65535"},
      {ok_head + "FLANNEL_MTU=67\n", "line 3: FLANNEL_MTU=67: not an MTU between 68 and 65535"},
      {ok_head + "FLANNEL_MTU\n", "line 3: \"FLANNEL_MTU\" is not KEY=VALUE"},
      {ok_head + "=1450\n", "line 3: \"=1450\" is not KEY=VALUE"},
      {ok_head + "FLANNEL_MTU=1450\nFLANNEL_MTU=1400\n",
       "line 4: FLANNEL_MTU appears more than once"},
      {ok_head + "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=yes\n",
       "line 4: FLANNEL_IPMASQ=yes: not true or false"},
      {"FLANNEL_NETWORK=10.42.0.0\n",
       "line 1: FLANNEL_NETWORK=10.42.0.0: not an IPv4 prefix such as 10.42.0.0/16"},
      {"FLANNEL_SUBNET=10.42.300.1/24\n",
       "line 1: FLANNEL_SUBNET=10.42.300.1/24: not an IPv4 prefix such as 10.42.0.0/16"},
      {"FLANNEL_IPV6_SUBNET=fd00::zz/64\n",
       "line 1: FLANNEL_IPV6_SUBNET=fd00::zz/64: not an IPv6 prefix such as fd00:42::/56"},
      {"PATH=/bin\n", "line 1: unexpected key PATH"},
      {"", "neither FLANNEL_SUBNET nor FLANNEL_IPV6_SUBNET is set (file has 0 lines)"},
      {"FLANNEL_SUBNET=10.42.2.1/24\nFLANNEL_MTU=1450\n",
       "FLANNEL_NETWORK and FLANNEL_SUBNET must be set together (file has 2 lines)"},
      {ok_head, "FLANNEL_MTU is not set (file has 2 lines)"},
      // A cut through "10.42.2.1/24" that still parses is caught by the containment check.
      {"FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.2.1/2\nFLANNEL_MTU=1450\n",
       "FLANNEL_SUBNET=10.42.2.1/2 is not inside FLANNEL_NETWORK=10.42.0.0/16 (file has 3 lines)"},
      {"FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.43.2.1/24\nFLANNEL_MTU=1450\n",
       "FLANNEL_SUBNET=10.43.2.1/24 is not inside FLANNEL_NETWORK=10.42.0.0/16 (file has 3 lines)"},
      {"FLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fd00::1/64\nFLANNEL_MTU=1450\n",
       "FLANNEL_IPV6_SUBNET=fd00::1/64 is not inside FLANNEL_IPV6_NETWORK=fc00::/48 (file has 3 "
       "lines)"},
      {"FLANNEL_IPV6_NETWORK=10.42.0.0/16\n",
       "line 1: FLANNEL_IPV6_NETWORK=10.42.0.0/16: not an IPv6 prefix such as fd00:42::/56"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_subnet_env(c.text);
    EXPECT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error(), c.error) << c.text;
  }
}

// Every prefix of a valid file (what a reader racing a non-atomic writer could see) is
// either an error or, only when cut exactly at a line end, a subset that still validates:
// never a value the full file does not contain.
TEST(SubnetEnv, EveryTruncationIsAnErrorOrAConsistentPrefix) {
  const std::string whole = read("dual-stack.env");
  SubnetEnv full = *parse_subnet_env(whole);
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    auto parsed = parse_subnet_env(whole.substr(0, cut));
    if (!parsed) {
      EXPECT_FALSE(parsed.error().empty());
      continue;
    }
    EXPECT_EQ(whole[cut - 1], '\n') << "accepted a cut inside a line at " << cut;
    EXPECT_EQ(parsed->subnet, full.subnet);
    EXPECT_EQ(parsed->mtu, full.mtu);
  }
}

// The files other people published (tests/fixtures/subnet-env/, sources in
// tests/fixtures/SOURCES.md): IPv4 only, dual stack and IPv6 only, each read as written.
TEST(SubnetEnv, PublishedFilesOfEveryFamily) {
  struct Row {
    const char* file;
    const char* subnet;
    const char* ipv6_subnet;
    const char* ipv6_subnet_prefix;
    int mtu;
  };
  const Row rows[] = {
      {"cni-plugins-570-ipv4-only.env", "172.16.0.1/24", "", "", 1450},
      {"cni-plugins-570-dualstack.env", "172.16.0.1/24", "fc00::1/64", "fc00::/64", 1450},
      // Ends with an empty line, as published: still complete, IPv6 alone.
      {"cni-plugins-570-ipv6-only.env", "", "fc00::1/64", "fc00::/64", 1450},
      {"flannel-docs-dualstack-vxlan.env", "10.42.0.1/24", "2001:cafe:42::1/64",
       "2001:cafe:42::/64", 1450},
      {"flannel-docs-running-ipv4-vxlan.env", "10.5.72.1/24", "", "", 1450},
      {"flannel-dist-sample-ipv4.env", "10.1.74.1/24", "", "", 1472},
      // VXLAN over a 1280-byte Tailscale tunnel: 1280 - 50.
      {"senaev-infra-k3s-vxlan-over-tailscale-mtu1230.env", "10.42.2.1/24", "", "", 1230},
  };
  for (const Row& row : rows) {
    std::ifstream in(std::string(PODPATH_FIXTURES) + "/subnet-env/" + row.file);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = parse_subnet_env(text.str());
    ASSERT_TRUE(parsed) << row.file << ": " << parsed.error();
    EXPECT_EQ(parsed->subnet, row.subnet) << row.file;
    EXPECT_EQ(parsed->ipv6_subnet, row.ipv6_subnet) << row.file;
    EXPECT_EQ(parsed->ipv6_subnet_prefix ? parsed->ipv6_subnet_prefix->to_string() : "",
              row.ipv6_subnet_prefix)
        << row.file;
    EXPECT_EQ(parsed->mtu, row.mtu) << row.file;
  }
}

}  // namespace
}  // namespace podpath::flannel
