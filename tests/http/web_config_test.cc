#include "http/web_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace podpath::http {
namespace {

const std::string kDir = std::string(PODPATH_TESTDATA) + "/http/testdata/web_config";

std::string fixture(const std::string& name) {
  std::ifstream in(kDir + "/" + name);
  EXPECT_TRUE(in) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Bad configs and the exact error each gets, as blackbox_exporter keeps them.
struct BadCase {
  const char* file;
  const char* error;
};

const BadCase kBad[] = {
    {"junk.bad.yml", "line 3: invalid YAML: end of sequence flow not found"},
    {"junk_key.bad.yml",
     "line 2: unknown field \"cert_filse\" in tls_server_config; known fields: cert, key, "
     "client_ca, cert_file, key_file, client_auth_type, client_ca_file, client_allowed_sans, "
     "min_version, max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences"},
    {"not_a_map.bad.yml",
     "line 1: the file must be a mapping with tls_server_config, http_server_config and/or "
     "basic_auth_users"},
    {"cert_missing.bad.yml", "tls_server_config: missing one of cert or cert_file"},
    {"key_missing.bad.yml", "tls_server_config: missing one of key or key_file"},
    {"cert_twice.bad.yml", "tls_server_config: cert and cert_file are both set; keep one"},
    {"client_auth_invalid.bad.yml",
     "line 4: tls_server_config.client_auth_type: invalid ClientAuth \"RequireSomething\"; use "
     "NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
     "RequireAndVerifyClientCert"},
    {"ca_without_policy.bad.yml",
     "tls_server_config: client CA's have been configured without a Client Auth Policy; set "
     "client_auth_type (RequireAndVerifyClientCert checks client certificates)"},
    {"verify_without_ca.bad.yml",
     "tls_server_config: client_auth_type RequireAndVerifyClientCert needs client_ca_file (or "
     "client_ca), the CA that signs the client certificates"},
    {"tls_version.bad.yml",
     "line 4: tls_server_config.min_version: unknown TLS version \"TLS111\"; use TLS10, TLS11, "
     "TLS12 or TLS13"},
    {"versions_crossed.bad.yml", "tls_server_config: min_version TLS13 is above max_version TLS12"},
    {"ciphers.bad.yml",
     "line 4: tls_server_config.cipher_suites is not supported: podpath's TLS (GnuTLS) picks "
     "cipher suites and curves from its secure defaults; remove it"},
    {"header_extra.bad.yml",
     "line 3: http_server_config.headers: HTTP header \"Content-Type\" can not be configured; "
     "allowed: Content-Security-Policy, Strict-Transport-Security, X-Content-Type-Options, "
     "X-Frame-Options, X-XSS-Protection"},
    {"header_value.bad.yml",
     "line 3: http_server_config.headers: invalid value for X-Frame-Options: \"allow-from\"; "
     "expected one of: deny, sameorigin"},
    {"http2.bad.yml",
     "line 2: http_server_config.http2: podpath serves HTTP/1.1 only; set http2: false or "
     "remove it"},
    {"user_not_bcrypt.bad.yml",
     "line 2: basic_auth_users: the password of \"john\" is not a bcrypt hash ($2y$, $2b$ or "
     "$2a$, cost 04-31, 53 characters); make one with mkpasswd -m bcrypt -R 10 or htpasswd -nBC "
     "10 \"\" | tr -d ':\\n'"},
    {"rate_limit.bad.yml",
     "line 1: rate_limit is not supported: podpath bounds load with --web.max-connections and "
     "--web.max-threads instead; remove it"},
    {"sans_without_client_auth.bad.yml",
     "tls_server_config: client_allowed_sans needs a client_auth_type that asks for client "
     "certificates (RequireAndVerifyClientCert)"},
};

TEST(WebConfig, BadFilesGiveTheirExactError) {
  for (const auto& c : kBad) {
    auto parsed = parse_web_config(fixture(c.file), kDir);
    EXPECT_FALSE(parsed) << c.file;
    EXPECT_EQ(parsed.error(), c.error) << c.file;
  }
}

TEST(WebConfig, EmptyFileMeansPlainHttpWithoutAuth) {
  auto parsed = parse_web_config(fixture("empty.good.yml"), kDir);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(*parsed, WebConfig{});
}

TEST(WebConfig, FullTlsConfig) {
  auto parsed = parse_web_config(fixture("tls.good.yml"), kDir);
  ASSERT_TRUE(parsed) << parsed.error();
  const WebConfig& config = *parsed;
  ASSERT_TRUE(config.tls);
  EXPECT_EQ(config.tls->cert_file, kDir + "/../tls/server.crt");  // relative to the file
  EXPECT_EQ(config.tls->key_file, kDir + "/../tls/server.key");
  EXPECT_EQ(config.tls->client_ca_file, kDir + "/../tls/ca.crt");
  EXPECT_EQ(config.tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(config.tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(config.tls->max_version, TlsVersion::kTls13);
  EXPECT_EQ(config.tls->client_allowed_sans, std::vector<std::string>{"prometheus.monitoring"});
  // A blank header value means "unset", as in exporter-toolkit.
  EXPECT_EQ(config.headers,
            (std::map<std::string, std::string>{{"Strict-Transport-Security", "max-age=31536000"},
                                                {"X-Frame-Options", "deny"}}));
  ASSERT_EQ(config.users.size(), 1u);
  EXPECT_TRUE(config.users.at("prometheus").starts_with("$2b$05$"));
}

TEST(WebConfig, UsersWithoutTls) {
  auto parsed = parse_web_config(fixture("users_no_tls.good.yml"), kDir);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_FALSE(parsed->tls);
  EXPECT_EQ(parsed->users.size(), 2u);
}

TEST(WebConfig, EveryClientAuthTypeAndAbsolutePaths) {
  const std::pair<const char*, ClientAuth> cases[] = {
      {"NoClientCert", ClientAuth::kNoClientCert},
      {"RequestClientCert", ClientAuth::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
      {"RequireClientCert", ClientAuth::kRequireAnyClientCert},  // exporter-toolkit's old name
      {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
  };
  for (const auto& [name, expected] : cases) {
    const bool needs_ca = expected != ClientAuth::kNoClientCert;  // a CA needs a policy
    std::string yaml = std::string(
                           "tls_server_config:\n  cert_file: /etc/s.crt\n  key_file: "
                           "k.key\n  client_auth_type: ") +
                       name + "\n" + (needs_ca ? "  client_ca_file: ca.crt\n" : "");
    auto parsed = parse_web_config(yaml, "/etc/podpath");
    ASSERT_TRUE(parsed) << name << ": " << parsed.error();
    EXPECT_EQ(parsed->tls->client_auth, expected) << name;
    EXPECT_EQ(parsed->tls->cert_file, "/etc/s.crt");
    EXPECT_EQ(parsed->tls->key_file, "/etc/podpath/k.key");
  }
}

TEST(WebConfig, TlsSectionWithOnlyVersionsStaysPlainHttp) {
  // exporter-toolkit turns TLS on only when a certificate, key, CA or client auth is set.
  auto parsed = parse_web_config("tls_server_config:\n  min_version: TLS13\n", "/");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_FALSE(parsed->tls);
}

TEST(WebConfig, TypeErrorsNameTheField) {
  auto parsed = parse_web_config("tls_server_config:\n  cert_file: [a, b]\n", "/");
  EXPECT_EQ(parsed.error(), "line 2: tls_server_config.cert_file must be a string");
  parsed = parse_web_config("basic_auth_users: [alice]\n", "/");
  EXPECT_EQ(parsed.error(),
            "line 1: basic_auth_users must be a mapping of user name to bcrypt hash");
  parsed = parse_web_config("http_server_config:\n  http2: false\n", "/");
  EXPECT_TRUE(parsed) << parsed.error();
}

base::FileRead read_fixture_file(const std::string& path) {
  return base::read_file(path);
}

TEST(WebConfig, LoadsAndChecksTheTlsFiles) {
  auto parsed = parse_web_config(fixture("tls.good.yml"), kDir);
  ASSERT_TRUE(parsed);
  auto [settings, error] = load_tls_settings(*parsed->tls, read_fixture_file);
  ASSERT_TRUE(settings) << error;
  EXPECT_NE(settings->cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(settings->key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(settings->client_ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);

  TlsFileConfig wrong_key = *parsed->tls;
  wrong_key.key_file = kDir + "/../tls/client.key";
  EXPECT_EQ(load_tls_settings(wrong_key, read_fixture_file).second,
            "tls_server_config: the key does not belong to the certificate (cert_file and "
            "key_file must be a pair)");

  TlsFileConfig missing = *parsed->tls;
  missing.cert_file = "/nonexistent/server.crt";
  EXPECT_EQ(load_tls_settings(missing, read_fixture_file).second,
            "tls_server_config.cert_file: cannot read /nonexistent/server.crt: No such file or "
            "directory");

  TlsFileConfig key_as_ca = *parsed->tls;
  key_as_ca.client_ca_file = kDir + "/../tls/client.key";
  EXPECT_EQ(load_tls_settings(key_as_ca, read_fixture_file).second,
            "tls_server_config: the client CA contains no PEM certificate");

  TlsFileConfig not_pem = *parsed->tls;
  not_pem.cert_file = kDir + "/tls.good.yml";
  auto garbage = load_tls_settings(not_pem, read_fixture_file).second;
  EXPECT_TRUE(garbage.starts_with("tls_server_config: cannot load the certificate and key"))
      << garbage;
}

}  // namespace
}  // namespace podpath::http
