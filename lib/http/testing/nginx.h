// File: testing/nginx.h
//
// For tests and benchmarks: Debian's nginx on a free loopback port, one worker, serving a
// small static file (/static.txt) and a small JSON document (/api.json), with TLS when asked
// (a certificate for "localhost" and 127.0.0.1 made by the openssl CLI, in ca()). Stopped
// on scope exit.
//
//   Nginx nginx;                       // http://127.0.0.1:PORT
//   Nginx tls({.tls = true});          // https://localhost:PORT, trust tls.ca()
#ifndef PMBENCH_HTTP_TESTING_NGINX_H_
#define PMBENCH_HTTP_TESTING_NGINX_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/testing/loopback_port.h"

extern char** environ;

namespace pmbench::http::test {

struct NginxOptions {
  bool tls = false;
  int workers = 1;
};

class Nginx {
 public:
  // The bodies served, so a check can ask for them.
  static constexpr const char* kStatic = "pmbench static file: a small text answer, 64 bytes long.....\n";
  static constexpr const char* kJson = R"({"markets":[{"id":1,"title":"Will it rain?","yes":0.62}],"next":""})";

  explicit Nginx(NginxOptions o = {}) : o_(o) {
    dir_ = "/tmp/pmbench-nginx-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++);
    std::filesystem::create_directories(dir_ + "/www");
    ::chmod(dir_.c_str(), 0755);  // the workers run as nobody
    ::chmod((dir_ + "/www").c_str(), 0755);
    Write(dir_ + "/www/static.txt", kStatic);
    Write(dir_ + "/www/api.json", kJson);
    if (o_.tls) {
      const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost "
                              "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + dir_ + "/key.pem -out " + dir_ +
                              "/cert.pem >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed (is openssl installed?)");
    }
    for (int attempt = 0; attempt < 5; ++attempt) {  // a free port can be taken before nginx binds it
      port_ = base::test::FreeLoopbackPort();
      WriteConf();
      if (Start()) return;
    }
    throw std::runtime_error("nginx did not start: " + LastError());
  }
  ~Nginx() {
    Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  uint16_t port() const { return port_; }
  // http://127.0.0.1:PORT or https://localhost:PORT (the name the certificate carries).
  std::string url(const std::string& path = "/") const {
    return (o_.tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_) + path;
  }
  std::string ca() const { return dir_ + "/cert.pem"; }
  pid_t pid() const { return pid_; }

  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGQUIT);  // graceful: finish the answers under way
      int status;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0644);
  }
  void WriteConf() const {
    std::ostringstream c;
    c << "worker_processes " << o_.workers << ";\n"
      << "pid " << dir_ << "/nginx.pid;\nerror_log " << dir_ << "/error.log warn;\n"
      << "events { worker_connections 16384; }\n"
      << "worker_rlimit_nofile 32768;\n"
      << "http {\n  access_log off;\n  keepalive_requests 1000000;\n  keepalive_timeout 120s;\n"
      << "  client_body_temp_path " << dir_ << "/body;\n  proxy_temp_path " << dir_ << "/proxy;\n"
      << "  fastcgi_temp_path " << dir_ << "/fcgi;\n  uwsgi_temp_path " << dir_ << "/uwsgi;\n  scgi_temp_path " << dir_ << "/scgi;\n"
      << "  types { text/plain txt; application/json json; }\n"
      << "  server {\n    listen 127.0.0.1:" << port_ << (o_.tls ? " ssl" : "") << ";\n";
    if (o_.tls) c << "    ssl_certificate " << dir_ << "/cert.pem;\n    ssl_certificate_key " << dir_ << "/key.pem;\n";
    c << "    root " << dir_ << "/www;\n  }\n}\n";
    std::ofstream(dir_ + "/nginx.conf") << c.str();
  }
  std::string LastError() const {
    std::ifstream in(dir_ + "/error.log");
    std::string line, last = "no error log";
    while (std::getline(in, line)) last = line;
    return last;
  }
  bool Start() {
    std::vector<std::string> argv = {"nginx", "-p", dir_, "-c", dir_ + "/nginx.conf", "-e", dir_ + "/error.log", "-g", "daemon off;"};
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    if (posix_spawnp(&pid_, "/usr/sbin/nginx", nullptr, nullptr, cargv.data(), environ) != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start /usr/sbin/nginx (install nginx-light)");
    }
    for (int i = 0; i < 200; ++i) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port_);
      const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    Stop();
    return false;
  }

  NginxOptions o_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pmbench::http::test

#endif  // PMBENCH_HTTP_TESTING_NGINX_H_
