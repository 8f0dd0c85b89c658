// --web.config.file (http::parse_web_config), exporter-toolkit's YAML. yaml-cpp reports
// errors by throwing; parse_web_config must turn every one into `error`.
#include "check.h"
#include "http/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = podpath::fuzz::as_text(data, size);
  const auto parsed = podpath::http::parse_web_config(text, "/etc/podpath");
  FUZZ_CHECK(parsed.ok() == parsed.error().empty(), text);
  if (!parsed) return 0;
  if (const auto& tls = parsed->tls) {
    // Relative file names are joined with the config file's directory.
    for (const auto* path : {&tls->cert_file, &tls->key_file, &tls->client_ca_file})
      FUZZ_CHECK(path->empty() || path->front() == '/', text);
    FUZZ_CHECK(tls->min_version <= tls->max_version, text);
    (void)podpath::http::client_auth_name(tls->client_auth);
  }
  // Parsing is a function of the text.
  FUZZ_CHECK(*podpath::http::parse_web_config(text, "/etc/podpath") == *parsed, text);
  return 0;
}
