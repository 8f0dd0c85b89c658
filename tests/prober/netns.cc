#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

namespace podpath::prober::testing {

bool running_as_root() {
  return geteuid() == 0;
}

std::string own_names(std::string text) {
  const std::string from = "ppt-";
  const std::string to = "ppt" + std::to_string(getpid()) + "-";
  std::size_t at = text.find(from);
  while (at != std::string::npos) {
    text.replace(at, from.size(), to);
    at = text.find(from, at + to.size());
  }
  return text;
}

namespace {

// Namespaces an earlier run left behind when it was killed mid-test: ppt<pid>-<x> whose
// process is gone.
void remove_stale_namespaces() {
  std::unique_ptr<FILE, int (*)(FILE*)> list(popen("ip netns list 2>/dev/null", "r"), pclose);
  if (!list) return;
  char line[256];
  while (std::fgets(line, sizeof line, list.get())) {
    std::string name(line);
    name = name.substr(0, name.find_first_of(" \n"));
    if (!name.starts_with("ppt") || name.size() < 5) continue;
    const auto dash = name.find('-');
    if (dash == std::string::npos || dash == 3) continue;
    const pid_t pid = static_cast<pid_t>(std::atoi(name.substr(3, dash - 3).c_str()));
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
      std::system(("ip netns del " + name + " 2>/dev/null").c_str());
  }
}

}  // namespace

int sh(const std::string& script) {
  const std::string path = "/tmp/podpath-prober-test-" + std::to_string(getpid()) + ".sh";
  {
    std::ofstream out(path);
    out << "set -e\n" << own_names(script) << "\n";
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

Namespaces::Namespaces(std::vector<std::string> names) {
  static const bool swept = (remove_stale_namespaces(), true);
  (void)swept;
  for (const auto& given : names) {
    const std::string name = own_names(given);
    names_.push_back(name);
    std::system(("ip netns del " + name + " 2>/dev/null").c_str());
    if (sh("ip netns add " + given + "\nip -n " + given + " link set lo up") != 0) ok_ = false;
  }
}

Namespaces::~Namespaces() {
  for (const auto& name : names_) std::system(("ip netns del " + name + " 2>/dev/null").c_str());
}

EnterNetns::EnterNetns(const std::string& name) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/var/run/netns/" + own_names(name)).c_str(), O_RDONLY | O_CLOEXEC);
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
