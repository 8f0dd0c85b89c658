#include "fake_apiserver.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace podpath::kubernetes::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

std::string fake_apiserver_path() {
  return std::string(PODPATH_SOURCE_DIR) + "/tests/lab/apiserver/fake-apiserver";
}

FakeApiServer::FakeApiServer(const std::vector<std::string>& args) {
  char dir[] = "/tmp/podpath-apiserver-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  state_dir_ = dir;
  const std::string script = fake_apiserver_path();
  std::vector<std::string> argv{script, "--state-dir", state_dir_, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    int log = open((state_dir_ + "/log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 1);
    dup2(log, 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(script.c_str(), cargv.data());
    _exit(127);
  }
  // The server writes server.json atomically once both listeners are bound.
  const std::string ready = state_dir_ + "/server.json";
  for (int i = 0; i < 600; ++i) {
    if (std::filesystem::exists(ready)) {
      auto info = nlohmann::json::parse(slurp(ready), nullptr, false);
      if (!info.is_discarded()) {
        url_ = info.value("url", "");
        admin_socket_ = info.value("admin_socket", "");
        return;
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "fake-apiserver exited: " + slurp(state_dir_ + "/log");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error_ = "fake-apiserver did not become ready in 30 s: " + slurp(state_dir_ + "/log");
}

FakeApiServer::~FakeApiServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  if (!state_dir_.empty() && std::getenv("PODPATH_KEEP_APISERVER_STATE") == nullptr)
    std::filesystem::remove_all(state_dir_);
}

std::string FakeApiServer::token() const {
  std::string token = slurp(state_dir_ + "/token");
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  return token;
}

std::string FakeApiServer::ca_pem() const {
  return slurp(state_dir_ + "/ca.crt");
}
std::string FakeApiServer::log() const {
  return slurp(state_dir_ + "/log");
}

nlohmann::json FakeApiServer::request(const std::string& path, const std::string* body) {
  CURL* easy = curl_easy_init();
  std::string out;
  const std::string url = "http://admin" + path;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, admin_socket_.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  if (body != nullptr) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body->c_str());
  }
  CURLcode code = curl_easy_perform(easy);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  if (code != CURLE_OK) return {{"ok", false}, {"error", curl_easy_strerror(code)}};
  auto parsed = nlohmann::json::parse(out, nullptr, false);
  if (parsed.is_discarded()) return {{"ok", false}, {"error", "not JSON: " + out}};
  return parsed;
}

nlohmann::json FakeApiServer::admin(const std::string& path, const std::string& body) {
  const std::string payload = body.empty() ? "{}" : body;
  return request(path, &payload);
}

nlohmann::json FakeApiServer::get(const std::string& path) {
  return request(path, nullptr);
}

nlohmann::json FakeApiServer::client_stats() {
  auto stats = get("/stats");
  if (stats.contains("clients") && stats["clients"].contains("127.0.0.1"))
    return stats["clients"]["127.0.0.1"];
  return nlohmann::json::object();
}

}  // namespace podpath::kubernetes::testing
