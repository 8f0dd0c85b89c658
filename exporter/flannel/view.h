// What the flannel module offers the rest of the exporter: the last good subnet.env.
#pragma once

#include <optional>
#include <string>

#include "flannel/subnet_env.h"

namespace podpath::flannel {

class SubnetView {
 public:
  virtual ~SubnetView() = default;
  // nullopt before the first successful read, or once the file is gone.
  virtual std::optional<SubnetEnv> latest() const = 0;
  // Why the last read was refused ("<path>: line 3: ..."); empty when it was read or absent.
  virtual std::string refused() const = 0;
};

}  // namespace podpath::flannel
