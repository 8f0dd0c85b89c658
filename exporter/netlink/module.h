// Module "netlink": the kernel view of this node (links, vxlan attributes, flannel's
// kernel-side peers, route lookups towards every peer).
#pragma once

#include <memory>

#include "module/module.h"

namespace podpath::netlink {

std::unique_ptr<module::Module> make_module();

}  // namespace podpath::netlink
