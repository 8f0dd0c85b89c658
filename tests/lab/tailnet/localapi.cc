#include "localapi.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace podpath::lab {

namespace {

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxBody = 1024 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Error";
  }
}

}  // namespace

ParseStatus ParseRequest(std::string_view buf, HttpRequest& req, size_t& consumed) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return buf.size() > kMaxHead ? ParseStatus::kBad : ParseStatus::kIncomplete;
  }
  std::string_view head = buf.substr(0, end);
  req = HttpRequest{};
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return ParseStatus::kBad;
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") return ParseStatus::kBad;
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);

  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string_view::npos) next = head.size();
    std::string_view h = head.substr(pos, next - pos);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return ParseStatus::kBad;
    req.headers.emplace(Lower(h.substr(0, colon)), std::string(Trim(h.substr(colon + 1))));
    pos = next + 2;
  }

  size_t body = 0;
  if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
    try {
      body = std::stoul(it->second);
    } catch (const std::exception&) {
      return ParseStatus::kBad;
    }
    if (body > kMaxBody) return ParseStatus::kBad;
  }
  if (req.headers.contains("transfer-encoding")) return ParseStatus::kBad;  // no chunked bodies
  if (buf.size() < end + 4 + body) return ParseStatus::kIncomplete;
  consumed = end + 4 + body;

  std::string conn;
  if (auto it = req.headers.find("connection"); it != req.headers.end()) conn = Lower(it->second);
  req.keep_alive = req.version == "HTTP/1.1" ? conn != "close" : conn == "keep-alive";
  return ParseStatus::kComplete;
}

std::string SerializeResponse(const HttpResponse& resp, bool keep_alive,
                              std::string_view tailscale_version) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", resp.status, Reason(resp.status));
  out += fmt::format("Content-Type: {}\r\n", resp.content_type);
  out += fmt::format("Content-Length: {}\r\n", resp.body.size());
  if (!tailscale_version.empty())
    out += fmt::format("Tailscale-Version: {}\r\n", tailscale_version);
  out += "X-Content-Type-Options: nosniff\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out += resp.body;
  return out;
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == key) {
      return std::string(eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

HttpResponse HandleLocalAPI(const HttpRequest& req, const LocalAPIHandlers& handlers) {
  auto error = [](int status, std::string text) {
    // Go's http.Error: text/plain, message plus newline.
    return HttpResponse{status, "text/plain; charset=utf-8", std::move(text) + "\n"};
  };
  // Go's server refuses an HTTP/1.1 request without a Host header (or with two) before any
  // handler runs; an empty Host header is legal and is what tailscale's own client sends
  // over the socket when it does not use "local-tailscaled.sock".
  auto hosts = req.headers.equal_range("host");
  size_t host_count = static_cast<size_t>(std::distance(hosts.first, hosts.second));
  if ((req.version == "HTTP/1.1" && host_count == 0) || host_count > 1) {
    return error(400, "400 Bad Request: missing required Host header");
  }
  std::string host = host_count ? hosts.first->second : "";
  bool has_origin = req.headers.contains("origin") && !req.headers.find("origin")->second.empty();
  bool has_referer =
      req.headers.contains("referer") && !req.headers.find("referer")->second.empty();
  if (has_origin || has_referer || !(host.empty() || host == "local-tailscaled.sock")) {
    return error(403, "invalid localapi request");
  }
  if (req.path == "/localapi/v0/status") {
    if (req.method != "GET") return error(405, "want GET");
    bool peers = QueryParam(req.query, "peers").value_or("true") != "false";
    return HttpResponse{200, "application/json", handlers.status(peers)};
  }
  if (req.path == "/localapi/v0/usermetrics") {
    if (req.method != "GET") return error(405, "want GET");
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", handlers.usermetrics()};
  }
  return error(404, "404 not found");
}

}  // namespace podpath::lab
