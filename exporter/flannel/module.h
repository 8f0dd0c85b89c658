// Module "flannel": flannel's own files on this node.
#pragma once

#include <memory>

#include "module/module.h"

namespace podpath::flannel {

std::unique_ptr<module::Module> make_module();

}  // namespace podpath::flannel
