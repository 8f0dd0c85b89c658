// Golden files: a renderer's whole output, checked in beside the tests that produce it, so a
// change to the output shows as a diff in review. PODPATH_UPDATE_GOLDEN=1 rewrites the files
// instead of comparing; read the diff before committing it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace podpath::test_support {

inline void expect_golden_file(const std::string& path, const std::string& actual) {
  if (std::getenv("PODPATH_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with PODPATH_UPDATE_GOLDEN=1)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual)
      << "golden file " << path << " (PODPATH_UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace podpath::test_support
