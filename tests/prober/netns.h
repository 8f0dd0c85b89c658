// Network namespaces for the prober's kernel tests: created by the test, torn down after it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace podpath::prober::testing {

bool running_as_root();

// The tests write every namespace as "ppt-<x>"; this turns each such name in `text` into
// "ppt<pid>-<x>", this process's own. Two test processes (ctest -j, or another checkout's
// run on the same machine) then never enter or delete each other's namespaces. sh(),
// Namespaces and EnterNetns apply it themselves.
std::string own_names(std::string text);

// Runs a shell script (namespace names made own_names) with bash -e; returns its exit status and
// logs the script on failure.
int sh(const std::string& script);

// Named namespaces ("ip netns add"), deleted (with everything in them) on destruction.
class Namespaces {
 public:
  explicit Namespaces(std::vector<std::string> names);
  ~Namespaces();
  bool ok() const { return ok_; }

 private:
  std::vector<std::string> names_;
  bool ok_ = true;
};

// Moves the calling thread into a namespace until destroyed. Sockets opened meanwhile stay
// in that namespace for good.
class EnterNetns {
 public:
  explicit EnterNetns(const std::string& name);
  ~EnterNetns();
  bool ok() const { return ok_; }

 private:
  int original_ = -1;
  bool ok_ = false;
};

// Polls `done` every 20 ms until it returns true or `limit` passes; returns its last result.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

}  // namespace podpath::prober::testing
