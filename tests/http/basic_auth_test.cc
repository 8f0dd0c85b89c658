#include "http/basic_auth.h"

#include <gtest/gtest.h>

namespace podpath::http {
namespace {

// Real bcrypt hashes of "s3cret" (mkpasswd -m bcrypt -R 5); $2y$ is htpasswd's prefix for
// the same algorithm.
const std::string kHash2b = "$2b$05$CfxDBBn/vk/9jrU7ispKWO460tIuqWqHXtwzR0bsHK2ZYNTSRKLBq";
const std::string kHash2y = "$2y$05$CfxDBBn/vk/9jrU7ispKWO460tIuqWqHXtwzR0bsHK2ZYNTSRKLBq";

std::string basic(const std::string& base64) {
  return "Basic " + base64;
}

TEST(BasicAuth, ParsesAuthorizationHeader) {
  // "prometheus:s3cret", "a:b:c" (colons after the first belong to the password), ":"
  auto p = parse_basic_authorization("Basic cHJvbWV0aGV1czpzM2NyZXQ=");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, "prometheus");
  EXPECT_EQ(p->second, "s3cret");
  p = parse_basic_authorization("basic YTpiOmM=");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, "a");
  EXPECT_EQ(p->second, "b:c");
  p = parse_basic_authorization("BASIC Og==");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, "");
  EXPECT_EQ(p->second, "");
  EXPECT_FALSE(parse_basic_authorization(""));
  EXPECT_FALSE(parse_basic_authorization("Bearer cHJvbWV0aGV1czpzM2NyZXQ="));
  EXPECT_FALSE(parse_basic_authorization("Basic cHJvbWV0aGV1cw=="));          // no colon
  EXPECT_FALSE(parse_basic_authorization("Basic cHJvbWV0aGV1czpzM2NyZXQ"));   // bad length
  EXPECT_FALSE(parse_basic_authorization("Basic cHJv=WV0aGV1czpzM2NyZXQ="));  // '=' inside
  EXPECT_FALSE(parse_basic_authorization("Basic !!!!"));
  EXPECT_FALSE(parse_basic_authorization("Basic cHJvbWV0aGV1czpzM2NyZXQ=-x"));  // trailing junk
}

TEST(BasicAuth, BcryptVerifiesBothPrefixes) {
  EXPECT_TRUE(bcrypt_matches("s3cret", kHash2b));
  EXPECT_TRUE(bcrypt_matches("s3cret", kHash2y));
  EXPECT_FALSE(bcrypt_matches("s3cret ", kHash2b));
  EXPECT_FALSE(bcrypt_matches("", kHash2b));
  EXPECT_FALSE(bcrypt_matches("s3cret", "not a hash"));
}

TEST(BasicAuth, CachesSuccessesOnly) {
  int calls = 0;
  BasicAuth auth([&](const std::string& password, const std::string& hash) {
    ++calls;
    return bcrypt_matches(password, hash);
  });
  const std::map<std::string, std::string> users = {{"prometheus", kHash2y}};
  const std::string right = basic("cHJvbWV0aGV1czpzM2NyZXQ=");  // prometheus:s3cret
  const std::string wrong = basic("cHJvbWV0aGV1czp3cm9uZw==");  // prometheus:wrong
  const std::string stranger = basic("bWFsbG9yeTpzM2NyZXQ=");   // mallory:s3cret
  EXPECT_TRUE(auth.allows(users, right));
  EXPECT_TRUE(auth.allows(users, right));
  EXPECT_TRUE(auth.allows(users, right));
  EXPECT_EQ(calls, 1);  // one bcrypt run for three scrapes
  EXPECT_FALSE(auth.allows(users, wrong));
  EXPECT_FALSE(auth.allows(users, wrong));
  EXPECT_EQ(calls, 3);  // failures are not cached
  // An unknown user costs a bcrypt run too (against a fixed hash): no timing oracle.
  EXPECT_FALSE(auth.allows(users, stranger));
  EXPECT_EQ(calls, 4);
  EXPECT_FALSE(auth.allows(users, ""));
  EXPECT_FALSE(auth.allows(users, "Basic garbage"));
  EXPECT_EQ(calls, 4);
  // A new hash for the user (config reloaded) is verified afresh, not served from the cache.
  const std::map<std::string, std::string> rotated = {{"prometheus", kHash2b}};
  EXPECT_TRUE(auth.allows(rotated, right));
  EXPECT_EQ(calls, 5);
  // The user removed from the config: the cached success no longer applies.
  EXPECT_FALSE(auth.allows({{"alice", kHash2b}}, right));
}

TEST(BasicAuth, CacheIsBounded) {
  int calls = 0;
  BasicAuth auth(
      [&](const std::string&, const std::string&) {
        ++calls;
        return true;
      },
      2);
  const std::map<std::string, std::string> users = {{"a", kHash2b}, {"b", kHash2b}, {"c", kHash2b}};
  EXPECT_TRUE(auth.allows(users, basic("YTp4")));  // a:x
  EXPECT_TRUE(auth.allows(users, basic("Yjp4")));  // b:x
  EXPECT_TRUE(auth.allows(users, basic("Yzp4")));  // c:x evicts a:x
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(auth.allows(users, basic("Yzp4")));
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(auth.allows(users, basic("YTp4")));
  EXPECT_EQ(calls, 4);
}

TEST(BasicAuth, GuardProtectsEveryPathAndAddsHeaders) {
  BasicAuth auth;
  AccessPolicy policy{{{"X-Frame-Options", "deny"}}, {{"prometheus", kHash2b}}};
  int served = 0;
  Handler inner = [&](const Request& r) {
    ++served;
    return Response{200, "text/plain", {}, r.path};
  };
  for (const char* path : {"/metrics", "/-/healthy", "/-/ready", "/"}) {
    Request request;
    request.method = "GET";
    request.path = path;
    auto refused = guard(policy, auth, request, inner);
    EXPECT_EQ(refused.status, 401) << path;
    EXPECT_EQ(refused.headers, (std::vector<std::pair<std::string, std::string>>{
                                   {"WWW-Authenticate", "Basic"}, {"X-Frame-Options", "deny"}}));
    request.headers = {{"authorization", basic("cHJvbWV0aGV1czpzM2NyZXQ=")}};
    auto allowed = guard(policy, auth, request, inner);
    EXPECT_EQ(allowed.status, 200) << path;
    EXPECT_EQ(allowed.body, path);
    EXPECT_EQ(allowed.headers,
              (std::vector<std::pair<std::string, std::string>>{{"X-Frame-Options", "deny"}}));
  }
  EXPECT_EQ(served, 4);
  // No users: open, headers still added.
  Request request;
  request.path = "/metrics";
  auto open =
      guard(AccessPolicy{{{"X-Content-Type-Options", "nosniff"}}, {}}, auth, request, inner);
  EXPECT_EQ(open.status, 200);
  EXPECT_EQ(open.headers.size(), 1u);
}

}  // namespace
}  // namespace podpath::http
