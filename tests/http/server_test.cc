#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

TEST(ListenAddress, ParsesPrometheusStyle) {
  auto [a, e1] = parse_listen_address(":18472");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "");
  EXPECT_EQ(a->port, 18472);
  auto [b, e2] = parse_listen_address("127.0.0.1:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("localhost:1").first->host, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("0.0.0.0:9").first->host, "");
  EXPECT_FALSE(parse_listen_address("18472").first);
  EXPECT_NE(parse_listen_address("18472").second.find("no port"), std::string::npos);
  EXPECT_FALSE(parse_listen_address(":70000").first);
  EXPECT_FALSE(parse_listen_address(":").first);
  EXPECT_FALSE(parse_listen_address("[::1]:80").first);
  // from_chars alone took a sign (fuzz/regressions/listen_address).
  EXPECT_FALSE(parse_listen_address("127.0.0.1:-0").first);
  EXPECT_FALSE(parse_listen_address(":+80").first);
}

TEST(Server, ServesHandlerAndHeaders) {
  auto server = make_server();
  ServerOptions options;
  options.listen = {ListenAddress{"127.0.0.1", 0}};
  std::string seen_accept;
  ASSERT_EQ(server->start(options,
                          [&](const Request& r) {
                            seen_accept = r.header("ACCEPT");
                            return Response{200,
                                            "text/plain",
                                            {{"X-Test", "yes"}},
                                            r.method + " " + r.path + "?" + r.query};
                          }),
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
  ASSERT_EQ(first->start(options, [](const Request&) { return Response{}; }), "");
  options.listen = {ListenAddress{"127.0.0.1", first->ports().at(0)}};
  auto second = make_server();
  std::string error = second->start(options, [](const Request&) { return Response{}; });
  EXPECT_NE(error.find("already in use"), std::string::npos) << error;
  EXPECT_NE(error.find("--web.listen-address"), std::string::npos) << error;
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
