// The libcurl LocalAPI client against the fake tailscaled: the request rules tailscaled
// enforces, and every way the socket can fail.
#include "tailscale/localapi.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fake_localapi.h"
#include "testdata_util.h"

namespace podpath::tailscale {
namespace {

using testing::FakeLocalApi;
using Outcome = LocalApiResponse::Outcome;
using Clock = std::chrono::steady_clock;

class LocalApiTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string socket() const { return dir_ + "/tailscaled.sock"; }

  std::string dir_;
};

// Sends `request` as raw bytes and returns the status line: proves the fake enforces the
// rules, so the client test below can fail.
std::string raw_status_line(const std::string& path, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return answer.substr(0, answer.find("\r\n"));
}

TEST_F(LocalApiTest, GetsStatusWithTheHostTailscaledRequires) {
  FakeLocalApi fake(socket());
  const std::string body = testing::read_testdata("status-field-report.json");
  fake.set_route("/localapi/v0/status", {200, body});
  auto api = make_curl_localapi(socket(), std::chrono::milliseconds(2000));
  LocalApiResponse r = api->get("/localapi/v0/status");
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.error;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, body);
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/localapi/v0/status");
  EXPECT_EQ(requests[0].headers.at("host"), "local-tailscaled.sock");
  EXPECT_EQ(requests[0].headers.count("origin"), 0u);
  EXPECT_EQ(requests[0].headers.count("referer"), 0u);
  // A second request on the same client works too (the curl handle is reused).
  LocalApiResponse again = api->get("/localapi/v0/status");
  EXPECT_EQ(again.outcome, Outcome::kOk) << again.error;
  EXPECT_EQ(again.body, body);
}

TEST_F(LocalApiTest, FakeRefusesWhatTailscaledRefuses) {
  FakeLocalApi fake(socket());
  fake.set_route("/localapi/v0/status", {200, "{}"});
  const std::string get = "GET /localapi/v0/status HTTP/1.1\r\n";
  EXPECT_EQ(raw_status_line(socket(), get + "Host: local-tailscaled.sock\r\n\r\n"),
            "HTTP/1.1 200 OK");
  EXPECT_EQ(raw_status_line(socket(), "GET /localapi/v0/status HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 200 OK")
      << "tailscaled allows an empty Host";
  EXPECT_EQ(raw_status_line(socket(), get + "\r\n"), "HTTP/1.1 400 Bad Request")
      << "Go's server wants Host in HTTP/1.1";
  EXPECT_EQ(raw_status_line(socket(), get + "Host: localhost\r\n\r\n"), "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(
      raw_status_line(socket(),
                      get + "Host: local-tailscaled.sock\r\nOrigin: http://evil.example\r\n\r\n"),
      "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(
      raw_status_line(socket(),
                      get + "Host: local-tailscaled.sock\r\nReferer: http://evil.example/\r\n\r\n"),
      "HTTP/1.1 403 Forbidden");
}

TEST_F(LocalApiTest, NotFoundIsAnAnswer) {
  FakeLocalApi fake(socket());
  auto api = make_curl_localapi(socket(), std::chrono::milliseconds(2000));
  LocalApiResponse r = api->get("/localapi/v0/usermetrics");
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.error;
  EXPECT_EQ(r.http_status, 404);
}

TEST_F(LocalApiTest, MissingSocketIsNotApplicable) {
  auto api = make_curl_localapi(socket(), std::chrono::milliseconds(2000));
  LocalApiResponse r = api->get("/localapi/v0/status");
  EXPECT_EQ(r.outcome, Outcome::kNoSocket);
  EXPECT_NE(r.error.find("No such file or directory"), std::string::npos) << r.error;
}

TEST_F(LocalApiTest, FileThatIsNotASocketFails) {
  std::ofstream(socket()) << "not a socket";
  auto api = make_curl_localapi(socket(), std::chrono::milliseconds(2000));
  LocalApiResponse r = api->get("/localapi/v0/status");
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(r.error, socket() + ": not a Unix socket");
}

TEST_F(LocalApiTest, RefusedFailsAtOnce) {
  testing::make_dead_socket(socket());
  auto api = make_curl_localapi(socket(), std::chrono::milliseconds(2000));
  auto start = Clock::now();
  LocalApiResponse r = api->get("/localapi/v0/status");
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_NE(r.error.find("GET /localapi/v0/status: "), std::string::npos) << r.error;
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000));
}

TEST_F(LocalApiTest, MisbehavingServerFails) {
  struct Case {
    const char* name;
    FakeLocalApi::Mode mode;
  };
  const Case cases[] = {
      {"garbage", FakeLocalApi::Mode::kGarbage},
      {"closes without answering", FakeLocalApi::Mode::kClose},
  };
  for (const auto& c : cases) {
    FakeLocalApi fake(socket());
    fake.set_route("/localapi/v0/status", {200, "{}"});
    fake.set_mode(c.mode);
    auto api = make_curl_localapi(socket(), std::chrono::milliseconds(2000));
    LocalApiResponse r = api->get("/localapi/v0/status");
    EXPECT_EQ(r.outcome, Outcome::kFailed) << c.name << ": " << r.body;
    EXPECT_FALSE(r.error.empty()) << c.name;
  }
}

TEST_F(LocalApiTest, HangingServerTimesOut) {
  FakeLocalApi fake(socket());
  fake.set_mode(FakeLocalApi::Mode::kHang);
  auto api = make_curl_localapi(socket(), std::chrono::milliseconds(300));
  auto start = Clock::now();
  LocalApiResponse r = api->get("/localapi/v0/status");
  auto took = Clock::now() - start;
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace podpath::tailscale
