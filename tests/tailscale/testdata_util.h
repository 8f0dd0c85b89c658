// Fixture and golden-file helpers shared by the tailscale tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "support/golden.h"

namespace podpath::tailscale::testing {

inline std::string testdata_path(const std::string& name) {
  return std::string(PODPATH_TESTDATA) + "/tailscale/testdata/" + name;
}

inline std::string read_testdata(const std::string& name) {
  std::ifstream in(testdata_path(name));
  EXPECT_TRUE(in) << "missing fixture " << testdata_path(name);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void expect_golden(const std::string& name, const std::string& actual) {
  test_support::expect_golden_file(testdata_path(name), actual);
}

}  // namespace podpath::tailscale::testing
