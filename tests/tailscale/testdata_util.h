// Fixture and golden-file helpers shared by the tailscale tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

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

// Compares with a golden file; PODPATH_UPDATE_GOLDEN=1 rewrites it instead.
inline void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = testdata_path(name);
  if (std::getenv("PODPATH_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with PODPATH_UPDATE_GOLDEN=1)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "golden file " << path;
}

}  // namespace podpath::tailscale::testing
