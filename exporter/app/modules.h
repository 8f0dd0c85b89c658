// The composition root's list of modules.
#pragma once

#include <memory>
#include <vector>

#include "module/module.h"

namespace podpath::app {

// Every module the binary knows, in a fixed order (app/modules.cc).
std::vector<std::unique_ptr<module::Module>> all_modules();

}  // namespace podpath::app
