// HTTP basic authentication against bcrypt hashes, as exporter-toolkit does it: a wrong or
// missing password gets 401 with WWW-Authenticate: Basic; verified answers are cached so a
// Prometheus scraping every second does not pay bcrypt's ~50 ms each time.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "http/server.h"

namespace podpath::http {

// "Basic <base64(user:password)>" -> {user, password}; nullopt when malformed. Pure.
std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view header);

// bcrypt check with libxcrypt's crypt_r ($2a$/$2b$/$2y$); constant-time comparison.
bool bcrypt_matches(const std::string& password, const std::string& hash);

class BasicAuth {
 public:
  // `matches` defaults to bcrypt_matches; tests count calls through it.
  using Matches = std::function<bool(const std::string& password, const std::string& hash)>;
  explicit BasicAuth(Matches matches = bcrypt_matches, std::size_t cache_size = 256);

  // True when `authorization` names one of `users` with the right password.
  bool allows(const std::map<std::string, std::string>& users, std::string_view authorization);

 private:
  Matches matches_;
  std::size_t cache_size_;
  // bcrypt runs one at a time: a flood of wrong passwords costs one core, not all of them.
  std::mutex bcrypt_mutex_;
  std::mutex cache_mutex_;
  // SHA-256 of user, hash and password of successful checks, oldest evicted first. Only
  // successes: wrong passwords cannot evict Prometheus' entry. The key holds no password,
  // and includes the hash, so a changed config never reuses an old verdict.
  std::unordered_set<std::string> cache_;  // guarded by cache_mutex_
  std::deque<std::string> order_;          // guarded by cache_mutex_
};

// The per-request part of the web config: its headers on every response, and basic auth
// in front of every path (exporter-toolkit protects everything, /-/healthy included).
struct AccessPolicy {
  std::map<std::string, std::string> headers;
  std::map<std::string, std::string> users;
};
Response guard(const AccessPolicy& policy, BasicAuth& auth, const Request& request,
               const Handler& inner);

}  // namespace podpath::http
