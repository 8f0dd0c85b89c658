// HTTPS through the real server and GnuTLS, with libcurl (OpenSSL) as the client: what
// Prometheus meets. Certificates: tests/http/testdata/tls (make.sh).
#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "http/server.h"

namespace podpath::http {
namespace {

const std::string kTls = std::string(PODPATH_TESTDATA) + "/http/testdata/tls/";

std::string read(const std::string& name) {
  std::ifstream in(kTls + name);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TlsSettings settings(ClientAuth auth = ClientAuth::kNoClientCert) {
  TlsSettings s;
  s.cert_pem = read("server.crt");
  s.key_pem = read("server.key");
  if (auth != ClientAuth::kNoClientCert) s.client_ca_pem = read("ca.crt");
  s.client_auth = auth;
  return s;
}

// The settings the server asks for at each connection; tests swap them as a reload would.
class Source {
 public:
  explicit Source(TlsSettings s) : current_(std::make_shared<TlsSettings>(std::move(s))) {}
  void set(TlsSettings s) {
    std::lock_guard lock(mutex_);
    current_ = std::make_shared<TlsSettings>(std::move(s));
  }
  TlsSource source() {
    return [this] {
      std::lock_guard lock(mutex_);
      return current_;
    };
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<const TlsSettings> current_;
};

struct Client {
  std::string client = "";  // "client" or "stranger": present that certificate
  long tls_max = 0;         // CURL_SSLVERSION_MAX_*
  bool https = true;
};

struct Result {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string subject;  // of the server certificate
};

size_t append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

Result get(int port, const Client& c) {
  Result result;
  CURL* curl = curl_easy_init();
  const std::string url =
      std::string(c.https ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + "/metrics";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, (kTls + "ca.crt").c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  if (!c.client.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, (kTls + c.client + ".crt").c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, (kTls + c.client + ".key").c_str());
  }
  if (c.tls_max != 0)
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2 | c.tls_max);
  result.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr &&
      info->num_of_certs > 0)
    for (curl_slist* item = info->certinfo[0]; item != nullptr; item = item->next)
      if (std::string_view(item->data).starts_with("Subject:")) result.subject = item->data;
  curl_easy_cleanup(curl);
  return result;
}

struct Running {
  explicit Running(TlsSettings s, ServerOptions options = {}) : tls(std::move(s)) {
    options.listen = {ListenAddress{"127.0.0.1", 0}};
    options.tls = tls.source();
    server = make_server();
    EXPECT_EQ(server
                  ->start(options,
                          [](const Request& r) {
                            return Response{200, "text/plain", {}, "hello " + r.path};
                          })
                  .error(),
              "");
    port = server->ports().at(0);
  }
  Source tls;
  std::unique_ptr<Server> server;
  int port = 0;
};

bool ok(const Result& r) {
  return r.code == CURLE_OK && r.status == 200 && r.body == "hello /metrics";
}

TEST(Tls, ServesHttpsAndRefusesPlainHttp) {
  Running running(settings());
  auto r = get(running.port, {});
  EXPECT_TRUE(ok(r)) << curl_easy_strerror(r.code) << " " << r.status;
  EXPECT_NE(r.subject.find("CN = localhost"), std::string::npos) << r.subject;
  EXPECT_FALSE(ok(get(running.port, {.https = false})));
  // The server keeps serving after a plain-HTTP client spoke to it.
  EXPECT_TRUE(ok(get(running.port, {})));
}

TEST(Tls, MinVersionTls13RefusesTls12) {
  TlsSettings s = settings();
  s.min_version = TlsVersion::kTls13;
  Running running(s);
  EXPECT_FALSE(ok(get(running.port, {.tls_max = CURL_SSLVERSION_MAX_TLSv1_2})));
  EXPECT_TRUE(ok(get(running.port, {.tls_max = CURL_SSLVERSION_MAX_TLSv1_3})));
  // And the reverse: max TLS12 still serves a TLS 1.2 client.
  s.min_version = TlsVersion::kTls12;
  s.max_version = TlsVersion::kTls12;
  running.tls.set(s);
  EXPECT_TRUE(ok(get(running.port, {.tls_max = CURL_SSLVERSION_MAX_TLSv1_2})));
}

// Every client_auth_type against no certificate, a certificate the CA signed, and a
// self-signed one, as Go's crypto/tls treats them.
TEST(Tls, ClientAuthTypes) {
  struct Case {
    ClientAuth auth;
    bool none, signed_by_ca, stranger;
  };
  const Case cases[] = {
      {ClientAuth::kNoClientCert, true, true, true},
      {ClientAuth::kRequestClientCert, true, true, true},
      {ClientAuth::kRequireAnyClientCert, false, true, true},
      {ClientAuth::kVerifyClientCertIfGiven, true, true, false},
      {ClientAuth::kRequireAndVerifyClientCert, false, true, false},
  };
  Running running(settings());
  for (const auto& c : cases) {
    running.tls.set(settings(c.auth));
    SCOPED_TRACE(static_cast<int>(c.auth));
    EXPECT_EQ(ok(get(running.port, {})), c.none);
    EXPECT_EQ(ok(get(running.port, {.client = "client"})), c.signed_by_ca);
    EXPECT_EQ(ok(get(running.port, {.client = "stranger"})), c.stranger);
  }
}

TEST(Tls, ClientAllowedSans) {
  TlsSettings s = settings(ClientAuth::kRequireAndVerifyClientCert);
  s.client_allowed_sans = {"spiffe://cluster/prometheus"};
  Running running(s);
  EXPECT_TRUE(ok(get(running.port, {.client = "client"})));
  s.client_allowed_sans = {"grafana.monitoring"};
  running.tls.set(s);
  EXPECT_FALSE(ok(get(running.port, {.client = "client"})));
}

TEST(Tls, ReloadedCertificateServesTheNextConnection) {
  Running running(settings());
  EXPECT_NE(get(running.port, {}).subject.find("CN = localhost"), std::string::npos);
  TlsSettings rotated = settings();
  rotated.cert_pem = read("rotated.crt");
  rotated.key_pem = read("rotated.key");
  running.tls.set(rotated);
  auto r = get(running.port, {});
  EXPECT_TRUE(ok(r)) << curl_easy_strerror(r.code);
  EXPECT_NE(r.subject.find("CN = rotated"), std::string::npos) << r.subject;
}

// A client that connects and never completes the handshake is closed at the read timeout.
TEST(Tls, StalledHandshakeIsClosedAtTheReadTimeout) {
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(500);
  Running running(settings(), options);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(running.port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(write(fd, "\x16\x03", 2), 2);  // the first bytes of a ClientHello, then nothing
  const auto start = std::chrono::steady_clock::now();
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 3000), 1);
  char buffer[64];
  EXPECT_LE(::read(fd, buffer, sizeof buffer), 0);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  close(fd);
  EXPECT_TRUE(ok(get(running.port, {})));  // and the server still serves
}

TEST(Tls, CheckTlsSettings) {
  EXPECT_EQ(check_tls_settings(settings()).error(), "");
  TlsSettings s = settings();
  s.key_pem = read("client.key");
  EXPECT_EQ(check_tls_settings(s).error(),
            "the key does not belong to the certificate (cert_file and key_file must be a pair)");
  s = settings(ClientAuth::kRequireAndVerifyClientCert);
  s.client_ca_pem = "not PEM";
  EXPECT_EQ(check_tls_settings(s).error(), "the client CA contains no PEM certificate");
}

TEST(Tls, BrokenStartSettingsNameTheFlag) {
  TlsSettings s = settings();
  s.key_pem = read("client.key");
  Source source(s);
  ServerOptions options;
  options.listen = {ListenAddress{"127.0.0.1", 0}};
  options.tls = source.source();
  auto server = make_server();
  EXPECT_EQ(server->start(options, [](const Request&) { return Response{}; }).error(),
            "cannot set up TLS: the key does not belong to the certificate (cert_file and "
            "key_file must be a pair); fix --web.config.file");
}

}  // namespace
}  // namespace podpath::http
