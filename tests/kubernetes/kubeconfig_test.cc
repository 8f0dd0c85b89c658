#include "kubernetes/kubeconfig.h"

#include <gtest/gtest.h>

namespace podpath::kubernetes {
namespace {

// What the certificate-authority-data below decodes to.
const char* kCaPem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";

// What k3s writes to /etc/rancher/k3s/k3s.yaml (and the lab's fake API server too).
const char* kK3sYaml = R"(apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
    server: https://127.0.0.1:6443/
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
preferences: {}
users:
- name: default
  user:
    token: K10abc::server:def
)";

TEST(Kubeconfig, K3sStyleTokenAndCaData) {
  auto result = parse_kubeconfig(kK3sYaml, "/etc/rancher/k3s", "", "kubeconfig k3s.yaml");
  ASSERT_TRUE(result) << result.error();
  const ApiConfig& c = *result;
  EXPECT_EQ(c.server, "https://127.0.0.1:6443");
  EXPECT_EQ(c.ca_pem, kCaPem);
  EXPECT_EQ(c.ca_file, "");
  EXPECT_EQ(c.token, "K10abc::server:def");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.source, "kubeconfig k3s.yaml (context default)");
}

const char* kMultiYaml = R"(apiVersion: v1
kind: Config
current-context: home
clusters:
- name: tokyo
  cluster:
    server: https://100.99.0.1:6443
    certificate-authority: pki/ca.crt
- name: lab
  cluster:
    server: https://10.0.0.1:6443
    insecure-skip-tls-verify: true
contexts:
- name: home
  context: {cluster: tokyo, user: admin}
- name: cert-data
  context: {cluster: tokyo, user: cert-data}
- name: lab
  context: {cluster: lab, user: file-token}
- name: exec-only
  context: {cluster: tokyo, user: oidc}
- name: half-cert
  context: {cluster: tokyo, user: half}
- name: ghost-user
  context: {cluster: tokyo, user: nobody}
- name: ghost-cluster
  context: {cluster: nowhere, user: admin}
- name: bad-base64
  context: {cluster: tokyo, user: bad}
users:
- name: admin
  user:
    client-certificate: /abs/admin.crt
    client-key: keys/admin.key
- name: cert-data
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: file-token
  user:
    tokenFile: /var/run/token
- name: oidc
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubelogin
- name: half
  user:
    client-certificate-data: Q0VSVA==
- name: bad
  user:
    client-key-data: "!!!"
    client-certificate-data: Q0VSVA==
)";

TEST(Kubeconfig, CurrentContextWithFilesRelativeToTheKubeconfig) {
  auto result = parse_kubeconfig(kMultiYaml, "/home/op/.kube", "", "kubeconfig config");
  ASSERT_TRUE(result) << result.error();
  const ApiConfig& c = *result;
  EXPECT_EQ(c.server, "https://100.99.0.1:6443");
  EXPECT_EQ(c.ca_file, "/home/op/.kube/pki/ca.crt");
  EXPECT_EQ(c.client_cert_file, "/abs/admin.crt");
  EXPECT_EQ(c.client_key_file, "/home/op/.kube/keys/admin.key");
  EXPECT_EQ(c.token, "");
}

TEST(Kubeconfig, ContextOverrideWithClientCertificateData) {
  auto result = parse_kubeconfig(kMultiYaml, "/k", "cert-data", "kc");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->client_cert_pem, "CERT");
  EXPECT_EQ(result->client_key_pem, "KEY");
  EXPECT_EQ(result->source, "kc (context cert-data)");
}

TEST(Kubeconfig, TokenFileAndInsecureOnlyWhenTheKubeconfigSaysSo) {
  auto result = parse_kubeconfig(kMultiYaml, "/k", "lab", "kc");
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->token_file, "/var/run/token");
  EXPECT_TRUE(result->insecure_skip_tls_verify);
  auto home = parse_kubeconfig(kMultiYaml, "/k", "home", "kc");
  ASSERT_TRUE(home);
  EXPECT_FALSE(home->insecure_skip_tls_verify);
}

TEST(Kubeconfig, ErrorsNameTheProblem) {
  struct Case {
    std::string yaml;
    std::string context;
    std::string error;
  };
  const Case cases[] = {
      {kMultiYaml, "exec-only", "exec or auth-provider plugin"},
      {kMultiYaml, "half-cert", "client certificate without its key"},
      {kMultiYaml, "ghost-user", "user \"nobody\" (of context \"ghost-user\") not found"},
      {kMultiYaml, "ghost-cluster", "cluster \"nowhere\" (of context \"ghost-cluster\")"},
      {kMultiYaml, "bad-base64", "client-key-data is not valid base64"},
      {kMultiYaml, "missing", "context \"missing\" not found"},
      {"apiVersion: v1\nkind: Config\n", "", "no current-context"},
      {"clusters: [unclosed", "", "not valid YAML"},
      {"- just\n- a list\n", "", "not a kubeconfig"},
      {"current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
       "clusters: [{name: c, cluster: {}}]\n",
       "", "has no server"},
      {"current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
       "clusters: [{name: c, cluster: {server: 10.0.0.1:6443}}]\n",
       "", "is not an http(s) URL"},
      {"current-context: a\ncontexts: {a: b}\n", "", "context \"a\" not found"},
  };
  for (const auto& c : cases) {
    auto result = parse_kubeconfig(c.yaml, "/k", c.context, "kc");
    EXPECT_FALSE(result) << c.yaml;
    EXPECT_NE(result.error().find(c.error), std::string::npos)
        << "want '" << c.error << "' got '" << result.error() << "'";
  }
}

TEST(InClusterConfig, FromServiceEnvironment) {
  auto config = in_cluster_config("10.43.0.1", "443", "/sa");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->server, "https://10.43.0.1:443");
  EXPECT_EQ(config->ca_file, "/sa/ca.crt");
  EXPECT_EQ(config->token_file, "/sa/token");
  EXPECT_EQ(in_cluster_config("fd00::1", "443", "/sa")->server, "https://[fd00::1]:443");
  EXPECT_FALSE(in_cluster_config("", "443", "/sa"));
  EXPECT_FALSE(in_cluster_config("10.43.0.1", "", "/sa"));
}

}  // namespace
}  // namespace podpath::kubernetes
