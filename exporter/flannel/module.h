// Module "flannel": flannel's own files on this node.
#pragma once

#include <memory>

#include "app/module.h"

namespace podpath::flannel {

std::unique_ptr<app::Module> make_module();

}  // namespace podpath::flannel
