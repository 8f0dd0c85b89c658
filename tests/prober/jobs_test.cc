#include "prober/jobs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace podpath::prober {
namespace {

struct Spec {
  std::string key;
  int value = 0;
};

struct Job {
  Spec spec;
  std::uint32_t epoch = 1;
  int kept = 0;  // how many reconciles this job survived
};

// Reconciles `table` against `specs` and returns the calls made, in order: "keep <key> <id>"
// or "create <key> <id>", each with the spec's index.
std::vector<std::string> reconcile(JobTable<std::string, Job>& table,
                                   const std::vector<Spec>& specs, std::uint32_t& next_id) {
  std::vector<std::string> calls;
  table.reconcile(
      std::span<const Spec>(specs), next_id, [](const Spec& spec) { return spec.key; },
      [&](std::uint32_t id, Job& job, const Spec& spec, std::size_t i) {
        calls.push_back("keep " + spec.key + " " + std::to_string(id) + " #" + std::to_string(i));
        job.spec = spec;
        ++job.kept;
      },
      [&](std::uint32_t id, const Spec& spec, std::size_t i) {
        calls.push_back("create " + spec.key + " " + std::to_string(id) + " #" + std::to_string(i));
        return Job{spec};
      });
  return calls;
}

std::vector<std::string> keys_in_order(const JobTable<std::string, Job>& table) {
  std::vector<std::string> keys;
  table.for_each([&](const Job& job) { keys.push_back(job.spec.key); });
  return keys;
}

TEST(JobTable, KeepsCreatesAndDropsByKey) {
  JobTable<std::string, Job> table;
  std::uint32_t next_id = 1;
  EXPECT_EQ(reconcile(table, {{"b", 1}, {"a", 1}}, next_id),
            (std::vector<std::string>{"create b 1 #0", "create a 2 #1"}));
  EXPECT_EQ(reconcile(table, {{"c", 2}, {"b", 2}}, next_id),
            (std::vector<std::string>{"create c 3 #0", "keep b 1 #1"}));
  // a's job went at once; b's is the same job, updated, with what it had.
  EXPECT_EQ(table.find(2), nullptr);
  ASSERT_NE(table.find(1), nullptr);
  EXPECT_EQ(table.find(1)->spec.value, 2);
  EXPECT_EQ(table.find(1)->kept, 1);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(keys_in_order(table), (std::vector<std::string>{"b", "c"}));
  // A key that comes back is a new job: nothing of the dropped one survives.
  EXPECT_EQ(reconcile(table, {{"a", 3}}, next_id), (std::vector<std::string>{"create a 4 #0"}));
  EXPECT_EQ(table.find(1), nullptr);
  EXPECT_EQ(table.find(3), nullptr);
  EXPECT_EQ(table.find(4)->kept, 0);
}

TEST(JobTable, EmptyPlanDropsEverything) {
  JobTable<std::string, Job> table;
  std::uint32_t next_id = 7;
  reconcile(table, {{"a"}, {"b"}}, next_id);
  EXPECT_EQ(next_id, 9u);
  EXPECT_TRUE(reconcile(table, {}, next_id).empty());
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(keys_in_order(table).empty());
}

TEST(JobTable, TablesSharingACounterNeverShareAnId) {
  JobTable<std::string, Job> first, second;
  std::uint32_t next_id = 1;
  reconcile(first, {{"a"}}, next_id);
  reconcile(second, {{"a"}}, next_id);
  EXPECT_NE(first.find(1), nullptr);
  EXPECT_EQ(first.find(2), nullptr);
  EXPECT_NE(second.find(2), nullptr);
}

TEST(JobTable, StaleEpochFindsNothing) {
  JobTable<std::string, Job> table;
  std::uint32_t next_id = 1;
  reconcile(table, {{"a"}}, next_id);
  EXPECT_NE(table.find(1, 1), nullptr);
  table.find(1)->epoch = 2;  // rescheduled: events of epoch 1 must not fire
  EXPECT_EQ(table.find(1, 1), nullptr);
  EXPECT_NE(table.find(1, 2), nullptr);
}

}  // namespace
}  // namespace podpath::prober
