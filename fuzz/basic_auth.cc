// The Authorization header of every request when basic_auth_users is configured
// (http::parse_basic_authorization), and BasicAuth::allows on top of it with a stand-in for
// bcrypt, so the verdict and its cache are checked at fuzzing speed.
#include "http/basic_auth.h"

#include <map>
#include <string>

#include "check.h"
#include "encoding/base64.h"

namespace http = podpath::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);

  const auto parsed = http::parse_basic_authorization(text);
  if (parsed) {
    // RFC 7617: the user-id ends at the first colon; encoding the pair again reads back.
    FUZZ_CHECK(parsed->first.find(':') == std::string::npos, text);
    const std::string again =
        "Basic " + podpath::encoding::encode_base64(parsed->first + ":" + parsed->second);
    FUZZ_CHECK(http::parse_basic_authorization(again) == parsed, again);
  }

  // One user with password "secret"; the stand-in compares instead of running bcrypt.
  const std::map<std::string, std::string> users{{"prometheus", "hash-of-secret"}};
  http::BasicAuth auth(
      [](const std::string& password, const std::string& hash) {
        return hash == "hash-of-secret" && password == "secret";
      },
      /*cache_size=*/2);
  const bool expected = parsed && parsed->first == "prometheus" && parsed->second == "secret";
  // Twice: the second answer comes from the cache when the first was a success.
  FUZZ_CHECK(auth.allows(users, text) == expected, text);
  FUZZ_CHECK(auth.allows(users, text) == expected, text);
  return 0;
}
