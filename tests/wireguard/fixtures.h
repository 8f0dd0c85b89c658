// Reading the third-party WireGuard captures of tests/fixtures/wg (provenance in
// tests/fixtures/SOURCES.md).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace podpath::wireguard::testing {

inline std::string read_fixture(const std::string& name) {
  const std::string path = std::string(PODPATH_FIXTURES) + "/wg/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "missing fixture " << path;
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace podpath::wireguard::testing
