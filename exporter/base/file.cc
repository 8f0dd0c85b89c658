#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <unistd.h>

namespace podpath::base {

std::string FileRead::message(const std::string& path) const {
  if (ok()) return {};
  return fmt::format("cannot read {}: {}", path, strerror(error));
}

FileRead read_file(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {std::nullopt, errno};
  std::string bytes;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return {std::nullopt, error};
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
    if (bytes.size() > max_bytes) {
      ::close(fd);
      return {std::nullopt, EFBIG};
    }
  }
  ::close(fd);
  return {std::move(bytes), 0};
}

}  // namespace podpath::base
