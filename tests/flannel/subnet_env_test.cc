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
  SubnetEnvParse parsed = parse_subnet_env(read("lima-k3s-agent.env"));
  ASSERT_TRUE(parsed.env) << parsed.error;
  EXPECT_EQ(parsed.env->network, "10.42.0.0/16");
  EXPECT_EQ(parsed.env->subnet, "10.42.2.1/24");
  EXPECT_EQ(parsed.env->subnet_prefix, model::Ipv4Prefix::parse("10.42.2.0/24"));
  EXPECT_EQ(parsed.env->mtu, 1450);
  EXPECT_EQ(parsed.env->ipmasq, true);
  EXPECT_TRUE(parsed.env->ipv6_subnet.empty());
}

TEST(SubnetEnv, DualStack) {
  SubnetEnvParse parsed = parse_subnet_env(read("dual-stack.env"));
  ASSERT_TRUE(parsed.env) << parsed.error;
  EXPECT_EQ(parsed.env->ipv6_network, "2001:cafe:42::/56");
  EXPECT_EQ(parsed.env->ipv6_subnet, "2001:cafe:42::1/64");
  EXPECT_EQ(parsed.env->mtu, 8951);
  EXPECT_EQ(parsed.env->ipmasq, false);
}

TEST(SubnetEnv, AcceptsCommentsBlankLinesCrlfAndUnknownFlannelKeys) {
  SubnetEnvParse parsed = parse_subnet_env(
      "# written by hand\r\n\r\nFLANNEL_NETWORK=10.42.0.0/16\r\nFLANNEL_SUBNET=10.42.9.1/24\r\n"
      "FLANNEL_MTU=1230\r\nFLANNEL_SOMETHING_NEW=x\r\n");
  ASSERT_TRUE(parsed.env) << parsed.error;
  EXPECT_EQ(parsed.env->mtu, 1230);
  EXPECT_FALSE(parsed.env->ipmasq.has_value());
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
  };
  for (const auto& c : cases) {
    SubnetEnvParse parsed = parse_subnet_env(c.text);
    EXPECT_FALSE(parsed.env.has_value()) << c.text;
    EXPECT_EQ(parsed.error, c.error) << c.text;
  }
}

// Every prefix of a valid file (what a reader racing a non-atomic writer could see) is
// either an error or, only when cut exactly at a line end, a subset that still validates:
// never a value the full file does not contain.
TEST(SubnetEnv, EveryTruncationIsAnErrorOrAConsistentPrefix) {
  const std::string whole = read("dual-stack.env");
  SubnetEnv full = *parse_subnet_env(whole).env;
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    SubnetEnvParse parsed = parse_subnet_env(whole.substr(0, cut));
    if (!parsed.env) {
      EXPECT_FALSE(parsed.error.empty());
      continue;
    }
    EXPECT_EQ(whole[cut - 1], '\n') << "accepted a cut inside a line at " << cut;
    EXPECT_EQ(parsed.env->subnet, full.subnet);
    EXPECT_EQ(parsed.env->mtu, full.mtu);
  }
}

}  // namespace
}  // namespace podpath::flannel
