// The one way podpath reads a whole file: one open, reads to the end of that one file
// description, and the errno kept as a value. Files that are replaced by rename (flannel's
// subnet.env, a rotated token, a reloaded certificate) are then seen either whole-old or
// whole-new, never a mix.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace podpath::base {

struct FileRead {
  std::optional<std::string> bytes;  // nullopt when the open or a read failed
  int error = 0;                     // errno of the failure (ENOENT: no such file)

  bool ok() const { return bytes.has_value(); }
  // "cannot read PATH: No such file or directory"; empty when ok.
  std::string message(const std::string& path) const;
};

// Files larger than max_bytes fail with EFBIG: every file podpath reads is small, and a
// huge one is not the file it expects.
FileRead read_file(const std::string& path, std::size_t max_bytes = std::size_t{16} << 20);

// Injected where tests replace the file system.
using FileReader = std::function<FileRead(const std::string& path)>;

}  // namespace podpath::base
