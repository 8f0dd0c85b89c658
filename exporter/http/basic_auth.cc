#include "http/basic_auth.h"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <array>
#include <memory>

#include "encoding/base64.h"

namespace podpath::http {
namespace {

std::string cache_key(const std::string& user, const std::string& hash,
                      const std::string& password) {
  std::string material = user;
  material += '\0';
  material += hash;
  material += '\0';
  material += password;
  std::array<unsigned char, 32> digest{};
  gnutls_hash_fast(GNUTLS_DIG_SHA256, material.data(), material.size(), digest.data());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

// A valid bcrypt hash (of a random string, cost 10) checked for unknown users, so the time
// to answer does not tell which user names exist.
constexpr const char* kUnknownUserHash =
    "$2b$10$lYO4ZkIKgRyKID3RCYRUEeMUBW8tMKelMnhO7lIos6L86R0QdSgpy";

}  // namespace

std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view header) {
  constexpr std::string_view kScheme = "basic ";
  if (header.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)  // the scheme is case-insensitive (RFC 7617)
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = encoding::decode_base64(encoded);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  // crypt_data is ~32 KiB: on the heap, not a worker thread's stack.
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_r(password.c_str(), hash.c_str(), data.get());
  if (computed == nullptr || computed[0] == '*') return false;  // "*0"/"*1": failure token
  const std::string_view result(computed);
  if (result.size() != hash.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < hash.size(); ++i)
    difference |= static_cast<unsigned char>(result[i] ^ hash[i]);
  return difference == 0;
}

BasicAuth::BasicAuth(Matches matches, std::size_t cache_size)
    : matches_(std::move(matches)), cache_size_(cache_size) {}

bool BasicAuth::allows(const std::map<std::string, std::string>& users,
                       std::string_view authorization) {
  auto credentials = parse_basic_authorization(authorization);
  if (!credentials) return false;
  const auto& [user, password] = *credentials;
  auto found = users.find(user);
  const bool known = found != users.end();
  const std::string hash = known ? found->second : kUnknownUserHash;
  const std::string key = cache_key(user, hash, password);
  {
    std::lock_guard lock(cache_mutex_);
    if (known && cache_.contains(key)) return true;
  }
  bool ok;
  {
    std::lock_guard lock(bcrypt_mutex_);
    ok = matches_(password, hash) && known;
  }
  if (!ok) return false;
  std::lock_guard lock(cache_mutex_);
  if (cache_.insert(key).second) {
    order_.push_back(key);
    while (order_.size() > cache_size_) {
      cache_.erase(order_.front());
      order_.pop_front();
    }
  }
  return true;
}

Response guard(const AccessPolicy& policy, BasicAuth& auth, const Request& request,
               const Handler& inner) {
  Response response;
  if (policy.users.empty() || auth.allows(policy.users, request.header("Authorization"))) {
    response = inner(request);
  } else {
    response = Response{
        401, "text/plain; charset=utf-8", {{"WWW-Authenticate", "Basic"}}, "Unauthorized\n"};
  }
  for (const auto& [name, value] : policy.headers) response.headers.emplace_back(name, value);
  return response;
}

}  // namespace podpath::http
