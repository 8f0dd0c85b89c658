#include "http/server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "http/gzip.h"

namespace podpath::http {
namespace {

// A minimal HTTP/1.0 client over a raw socket, so the test depends on nothing but the server.
std::string fetch(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads one response with a Content-Length body (enough for these tests); empty on EOF or
// after `timeout`.
std::string read_response(int fd, std::chrono::milliseconds timeout) {
  std::string data;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    auto head_end = data.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto at = data.find("Content-Length: ");
      size_t length = at == std::string::npos ? 0 : std::stoul(data.substr(at + 16));
      if (data.size() >= head_end + 4 + length) return data;
    }
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
    char buffer[4096];
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) return data;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

// True when the server closed `fd` within `timeout` (read sees EOF or a reset).
bool closed_within(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char buffer[256];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) return true;
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  }
}

Response echo(const Request& r) {
  return Response{200, "text/plain", {}, r.method + " " + r.path};
}

struct Running {
  explicit Running(ServerOptions options, Handler handler = echo) {
    options.listen = {ListenAddress{"127.0.0.1", 0}};
    server = make_server();
    EXPECT_EQ(server->start(options, std::move(handler)).error(), "");
    port = server->ports().at(0);
  }
  std::unique_ptr<Server> server;
  int port = 0;
};

TEST(ListenAddress, ParsesPrometheusStyle) {
  auto a = parse_listen_address(":18472");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "");
  EXPECT_EQ(a->port, 18472);
  auto b = parse_listen_address("127.0.0.1:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("localhost:1")->host, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("0.0.0.0:9")->host, "");
  EXPECT_FALSE(parse_listen_address("18472"));
  EXPECT_NE(parse_listen_address("18472").error().find("no port"), std::string::npos);
  EXPECT_FALSE(parse_listen_address(":70000"));
  EXPECT_FALSE(parse_listen_address(":"));
  EXPECT_FALSE(parse_listen_address("[::1]:80"));
  // from_chars alone took a sign (fuzz/regressions/listen_address).
  EXPECT_FALSE(parse_listen_address("127.0.0.1:-0"));
  EXPECT_FALSE(parse_listen_address(":+80"));
}

TEST(Server, ServesHandlerAndHeaders) {
  auto server = make_server();
  ServerOptions options;
  options.listen = {ListenAddress{"127.0.0.1", 0}};
  std::string seen_accept;
  ASSERT_EQ(server
                ->start(options,
                        [&](const Request& r) {
                          seen_accept = r.header("ACCEPT");
                          return Response{200,
                                          "text/plain",
                                          {{"X-Test", "yes"}},
                                          r.method + " " + r.path + "?" + r.query};
                        })
                .error(),
            "");
  int port = server->ports().at(0);
  ASSERT_GT(port, 0);
  std::string response = fetch(port, "GET /metrics?a=b HTTP/1.0\r\nAccept: text/plain\r\n\r\n");
  EXPECT_NE(response.find("200 OK"), std::string::npos);
  EXPECT_NE(response.find("X-Test: yes"), std::string::npos);
  EXPECT_NE(response.find("GET /metrics?a=b"), std::string::npos);
  EXPECT_EQ(seen_accept, "text/plain");
  std::string head = fetch(port, "HEAD /x HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.find("HEAD /x"), std::string::npos);  // no body for HEAD
  server->stop();
}

TEST(Server, TakenPortGivesClearError) {
  auto first = make_server();
  ServerOptions options;
  options.listen = {ListenAddress{"127.0.0.1", 0}};
  ASSERT_EQ(first->start(options, [](const Request&) { return Response{}; }).error(), "");
  options.listen = {ListenAddress{"127.0.0.1", first->ports().at(0)}};
  auto second = make_server();
  std::string error = second->start(options, [](const Request&) { return Response{}; }).error();
  EXPECT_NE(error.find("already in use"), std::string::npos) << error;
  EXPECT_NE(error.find("--web.listen-address"), std::string::npos) << error;
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  Running running(ServerOptions{});
  int fd = connect_to(running.port);
  ASSERT_GE(fd, 0);
  for (const char* path : {"/metrics", "/-/healthy", "/"}) {
    std::string request = fmt::format("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", path);
    ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string response = read_response(fd, std::chrono::seconds(5));
    EXPECT_NE(response.find("200 OK"), std::string::npos) << path;
    EXPECT_EQ(response.find("Connection: close"), std::string::npos) << response;
    EXPECT_NE(response.find(std::string("GET ") + path), std::string::npos) << response;
  }
  close(fd);
}

TEST(Server, HeadHasLengthButNoBody) {
  Running running(ServerOptions{});
  int fd = connect_to(running.port);
  std::string request = "HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /y HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  // Pipelined: the HEAD answer carries the length of "HEAD /x" but no body, so the next
  // bytes are the GET's status line.
  std::string both = read_response(fd, std::chrono::seconds(5));
  both += read_response(fd, std::chrono::milliseconds(500));
  EXPECT_NE(both.find("Content-Length: 7\r\n"), std::string::npos) << both;
  EXPECT_EQ(both.find("HEAD /x"), std::string::npos) << both;
  EXPECT_NE(both.find("\r\n\r\nHTTP/1.1 200 OK"), std::string::npos) << both;
  EXPECT_NE(both.find("GET /y"), std::string::npos) << both;
  close(fd);
}

TEST(Server, RequestWithBodyIsAnsweredWithoutReadingItAndClosed) {
  Running running(ServerOptions{}, [](const Request& r) {
    return Response{405, "text/plain", {{"Allow", "GET, HEAD"}}, r.method + "\n"};
  });
  std::string response = fetch(
      running.port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc");
  EXPECT_NE(response.find("405 Method Not Allowed"), std::string::npos) << response;
  EXPECT_NE(response.find("Allow: GET, HEAD"), std::string::npos) << response;
}

TEST(Server, OversizedHeadersAreRefused) {
  ServerOptions options;
  options.max_header_bytes = 4096;
  Running running(options);
  int fd = connect_to(running.port);
  std::string request =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'a') + "\r\n\r\n";
  // The server may answer 431 and close before it has read everything; either way the
  // request never reaches the handler and the connection ends.
  (void)write(fd, request.data(), request.size());
  std::string response = read_response(fd, std::chrono::seconds(5));
  EXPECT_EQ(response.find("GET /"), std::string::npos) << response;
  if (!response.empty()) {
    EXPECT_NE(response.find(" 431 "), std::string::npos) << response;
  }
  EXPECT_TRUE(closed_within(fd, std::chrono::seconds(2)));
  close(fd);
  // Headers within the limit still pass.
  std::string fine =
      fetch(running.port, "GET /ok HTTP/1.0\r\nX-Small: " + std::string(1000, 'a') + "\r\n\r\n");
  EXPECT_NE(fine.find("GET /ok"), std::string::npos);
}

TEST(Server, SlowRequestIsClosedAtTheReadTimeout) {
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(600);
  Running running(options);
  int fd = connect_to(running.port);
  const auto start = std::chrono::steady_clock::now();
  // One byte every 100 ms keeps the connection active, so only a total deadline stops it.
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  bool closed = false;
  for (char c : request) {
    if (write(fd, &c, 1) != 1) {
      closed = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      closed = true;
      break;
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed || closed_within(fd, std::chrono::seconds(2)));
  EXPECT_GE(elapsed, std::chrono::milliseconds(500));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
  close(fd);
}

TEST(Server, IdleKeepAliveConnectionIsClosedAtTheIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(500);
  Running running(options);
  int fd = connect_to(running.port);
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  EXPECT_NE(read_response(fd, std::chrono::seconds(5)).find("200 OK"), std::string::npos);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_within(fd, std::chrono::seconds(3)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400));
  close(fd);
}

TEST(Server, ConnectionsBeyondTheLimitWaitUntilASlotFrees) {
  ServerOptions options;
  options.max_connections = 4;
  options.worker_threads = 1;  // MHD splits the limit across its threads
  Running running(options);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(connect_to(running.port));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server accept them
  // At the limit the server stops accepting: the fifth connection waits in the kernel's
  // listen backlog, unanswered, and is served once a slot frees.
  int extra = connect_to(running.port);
  ASSERT_GE(extra, 0);
  std::string request = "GET /fifth HTTP/1.0\r\n\r\n";
  ASSERT_EQ(write(extra, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(read_response(extra, std::chrono::milliseconds(700)), "");
  close(held.back());
  held.pop_back();
  EXPECT_NE(read_response(extra, std::chrono::seconds(3)).find("GET /fifth"), std::string::npos);
  close(extra);
  for (int fd : held) close(fd);
}

// Slowloris: 200 connections trickling their headers one byte at a time must not delay a
// normal scrape, because they hold connection slots, never the worker threads.
TEST(Server, SlowlorisDoesNotBlockAScrape) {
  ServerOptions options;
  options.read_timeout = std::chrono::seconds(30);
  Running running(options);
  std::vector<int> slow;
  for (int i = 0; i < 200; ++i) {
    int fd = connect_to(running.port);
    ASSERT_GE(fd, 0);
    slow.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::thread trickler([&] {
    const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-a: ";
    size_t at = 0;
    while (!done) {
      char c = at < head.size() ? head[at] : 'a';
      for (int fd : slow) (void)send(fd, &c, 1, MSG_NOSIGNAL);
      ++at;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    std::string response = fetch(running.port, "GET /metrics HTTP/1.0\r\n\r\n");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_NE(response.find("GET /metrics"), std::string::npos);
    EXPECT_LT(took, std::chrono::seconds(1))
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  }
  done = true;
  trickler.join();
  for (int fd : slow) close(fd);
}

TEST(Gzip, AcceptEncoding) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_TRUE(accepts_gzip("gzip;q=0.001"));
  // Codings and parameter names are case-insensitive (fuzz/regressions/accept).
  EXPECT_TRUE(accepts_gzip("GZIP"));
  EXPECT_TRUE(accepts_gzip("deflate, X-Gzip"));
  EXPECT_FALSE(accepts_gzip("Gzip;Q=0"));
}

}  // namespace
}  // namespace podpath::http
