#include "base/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace podpath::base {
namespace {

Result<std::unique_ptr<int>> open_thing(bool works) {
  if (!works) return Result<std::unique_ptr<int>>::failure("cannot open: refused; fix: allow it");
  return std::make_unique<int>(7);
}

TEST(Result, CarriesTheValueOrTheOneLineReason) {
  auto good = open_thing(true);
  ASSERT_TRUE(good);
  EXPECT_EQ(**good, 7);
  EXPECT_EQ(good.error(), "");
  auto bad = open_thing(false);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), "cannot open: refused; fix: allow it");
}

TEST(Status, IsOkUnlessItCarriesAReason) {
  EXPECT_TRUE(Status::success());
  auto taken = Status::failure("port 18472 is taken");
  EXPECT_FALSE(taken);
  EXPECT_EQ(taken.error(), "port 18472 is taken");
}

}  // namespace
}  // namespace podpath::base
