#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace podpath::prober::testing {

bool running_as_root() {
  return geteuid() == 0;
}

int sh(const std::string& script) {
  const std::string path = "/tmp/podpath-prober-test-" + std::to_string(getpid()) + ".sh";
  {
    std::ofstream out(path);
    out << "set -e\n" << script << "\n";
  }
  const std::string log = path + ".log";
  int status = std::system(("bash -x " + path + " >" + log + " 2>&1").c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0) {
    std::fprintf(stderr, "script failed (%d), last lines of its trace:\n", code);
    std::system(("tail -4 " + log + " >&2").c_str());
  }
  unlink(path.c_str());
  unlink(log.c_str());
  return code;
}

Namespaces::Namespaces(std::vector<std::string> names) : names_(std::move(names)) {
  for (const auto& name : names_) {
    std::system(("ip netns del " + name + " 2>/dev/null").c_str());
    if (sh("ip netns add " + name + "\nip -n " + name + " link set lo up") != 0) ok_ = false;
  }
}

Namespaces::~Namespaces() {
  for (const auto& name : names_) std::system(("ip netns del " + name + " 2>/dev/null").c_str());
}

EnterNetns::EnterNetns(const std::string& name) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  ok_ = original_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0;
  if (target >= 0) close(target);
}

EnterNetns::~EnterNetns() {
  if (original_ >= 0) {
    setns(original_, CLONE_NEWNET);
    close(original_);
  }
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace podpath::prober::testing
