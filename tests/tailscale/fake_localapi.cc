#include "fake_localapi.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace podpath::tailscale::testing {

namespace {

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

int bound_socket(const std::string& path) {
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_un addr = address_of(path);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error(fmt::format("bind {}: {}", path, std::strerror(errno)));
  }
  return fd;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t start = s.find_first_not_of(" \t");
  return start == std::string::npos ? "" : s.substr(start);
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 403:
      return "Forbidden";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    default:
      return "Status";
  }
}

}  // namespace

FakeLocalApi::FakeLocalApi(std::string socket_path) : socket_path_(std::move(socket_path)) {
  listen_fd_ = bound_socket(socket_path_);
  if (::listen(listen_fd_, 16) != 0 || ::pipe2(stop_pipe_, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("listen: {}", std::strerror(errno)));
  thread_ = std::thread([this] { serve(); });
}

FakeLocalApi::~FakeLocalApi() {
  // A pipe, not a socket: write(2), since send(2) would fail with ENOTSOCK.
  [[maybe_unused]] ssize_t n = ::write(stop_pipe_[1], "x", 1);
  thread_.join();
  for (int fd : held_) ::close(fd);
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
  ::unlink(socket_path_.c_str());
}

void FakeLocalApi::set_mode(Mode mode) {
  std::lock_guard lock(mutex_);
  mode_ = mode;
}

void FakeLocalApi::set_route(const std::string& path, Route route) {
  std::lock_guard lock(mutex_);
  routes_[path] = std::move(route);
}

void FakeLocalApi::remove_route(const std::string& path) {
  std::lock_guard lock(mutex_);
  routes_.erase(path);
}

std::vector<FakeLocalApi::Request> FakeLocalApi::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeLocalApi::serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) handle(fd);
    }
  }
}

void FakeLocalApi::handle(int fd) {
  // Requests are small; read the head with a deadline so a silent client cannot stall us.
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  Request request;
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t sp1 = request_line.find(' ');
  size_t sp2 = request_line.find(' ', sp1 + 1);
  if (sp1 != std::string::npos && sp2 != std::string::npos) {
    request.method = request_line.substr(0, sp1);
    request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    request.version = request_line.substr(sp2 + 1);
  }
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos)
      request.headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
    pos = end + 2;
  }

  Mode mode;
  Route route{404, "404 page not found\n"};
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    mode = mode_;
    std::string path = request.target.substr(0, request.target.find('?'));
    if (auto it = routes_.find(path); it != routes_.end()) route = it->second;
    if (mode == Mode::kHang) {
      held_.push_back(fd);
      return;
    }
  }
  if (mode == Mode::kClose) {
    ::close(fd);
    return;
  }
  if (mode == Mode::kGarbage) {
    write_all(fd, "\x16\x03\x01 garbage, not HTTP at all\r\n\r\n");
    ::close(fd);
    return;
  }
  // tailscaled's rules (ipn/localapi/localapi.go): a browser must not reach the LocalAPI.
  // Before them, Go's net/http answers 400 to an HTTP/1.1 request without Host.
  auto host = request.headers.find("host");
  const bool bad_host = host != request.headers.end() && !host->second.empty() &&
                        host->second != "local-tailscaled.sock";
  if (host == request.headers.end() && request.version == "HTTP/1.1") {
    route = {400, "400 Bad Request: missing required Host header"};
  } else if (bad_host || request.headers.count("origin") != 0 ||
             request.headers.count("referer") != 0) {
    route = {403, "invalid localapi request\n"};
  }
  write_all(fd, fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                            "Connection: close\r\n\r\n{}",
                            route.status, reason(route.status),
                            route.status == 200 ? "application/json" : "text/plain; charset=utf-8",
                            route.body.size(), route.body));
  ::close(fd);
}

void make_dead_socket(const std::string& path) {
  ::close(bound_socket(path));
}

std::string make_temp_dir() {
  char pattern[] = "/tmp/podpath-ts-XXXXXX";
  if (::mkdtemp(pattern) == nullptr)
    throw std::runtime_error(fmt::format("mkdtemp: {}", std::strerror(errno)));
  return pattern;
}

}  // namespace podpath::tailscale::testing
