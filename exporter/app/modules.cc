// The one place that lists podpath's modules. Each source of truth adds one line here.
#include "app/module.h"

namespace podpath::app {

std::vector<std::unique_ptr<Module>> all_modules() {
  std::vector<std::unique_ptr<Module>> modules;
  return modules;
}

}  // namespace podpath::app
