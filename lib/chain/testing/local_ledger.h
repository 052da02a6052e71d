// File: testing/local_ledger.h
//
// For tests and benchmarks of any package: starts a private instance of
// fixtures/localnet (the litesvm ledger) on free loopback ports and stops it on scope exit.
//
//   LocalLedger ledger({"--slot-ms", "50", "--drop", "0.1"}, /*ports=*/2);
//   RpcClient rpc({.endpoints = ledger.urls()});
#ifndef PMBENCH_CHAIN_TESTING_LOCAL_LEDGER_H_
#define PMBENCH_CHAIN_TESTING_LOCAL_LEDGER_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/testing/loopback_port.h"

extern char** environ;

namespace pmbench::chain::test {

// fixtures/localnet, from PMBENCH_LOCALNET_DIR or the source tree this was built from.
inline std::string LocalnetDir() {
  if (const char* d = std::getenv("PMBENCH_LOCALNET_DIR")) return d;
#ifdef PMBENCH_SOURCE_DIR
  return std::string(PMBENCH_SOURCE_DIR) + "/fixtures/localnet";
#else
  return "fixtures/localnet";
#endif
}

// http://127.0.0.1:PORT where nothing listens: a port the kernel handed out and took back.
inline std::string UnusedLoopbackUrl() { return "http://127.0.0.1:" + std::to_string(base::test::FreeLoopbackPort()); }

class LocalLedger {
 public:
  explicit LocalLedger(std::vector<std::string> args = {}, int ports = 1) {
    const std::string dir = LocalnetDir();
    ready_ = "/tmp/pmbench-ledger-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) + ".json";
    std::string listen;
    for (int i = 0; i < ports; ++i) listen += (i ? ",127.0.0.1:0" : "127.0.0.1:0");
    std::vector<std::string> argv = {"node", dir + "/server.js", "--listen", listen, "--ready-file", ready_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "node", &fa, nullptr, cargv.data(), environ) != 0) {
      posix_spawn_file_actions_destroy(&fa);
      throw std::runtime_error("cannot start node (install nodejs; tools/staging up installs the ledger's npm packages)");
    }
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 300; ++i) {  // node + litesvm start in ~0.5 s
      std::ifstream in(ready_);
      if (in) {
        std::stringstream text;
        text << in.rdbuf();
        const auto doc = nlohmann::json::parse(text.str(), nullptr, false);
        if (!doc.is_discarded()) {
          for (const auto& u : doc["urls"]) urls_.push_back(u.get<std::string>());
          return;
        }
      }
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("the local ledger exited at start (see its stderr; are " + dir + "/node_modules installed? tools/staging up does it)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Stop();
    throw std::runtime_error("the local ledger did not start within 15 s");
  }
  ~LocalLedger() { Stop(); }
  LocalLedger(const LocalLedger&) = delete;
  LocalLedger& operator=(const LocalLedger&) = delete;

  const std::vector<std::string>& urls() const { return urls_; }
  const std::string& url() const { return urls_.at(0); }
  pid_t pid() const { return pid_; }

  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    std::remove(ready_.c_str());
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  pid_t pid_ = -1;
  std::string ready_;
  std::vector<std::string> urls_;
};

// A certificate for 127.0.0.1 made here by the openssl CLI, for the ledger's --tls-cert /
// --tls-key; clients trust it only through SSL_CERT_FILE (see TrustOnly).
struct SelfSignedCert {
  std::string dir = "/tmp/pmbench-tls-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++);
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  SelfSignedCert() {
    const std::string cmd = "mkdir -p " + dir + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                            "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert +
                            " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed");
  }
  ~SelfSignedCert() { std::filesystem::remove_all(dir); }
  SelfSignedCert(const SelfSignedCert&) = delete;
  SelfSignedCert& operator=(const SelfSignedCert&) = delete;

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
};

// SSL_CERT_FILE (read by OpenSSL's default verify paths when a TLS context is made) set to
// one file for this scope.
class TrustOnly {
 public:
  explicit TrustOnly(const std::string& cert_file) {
    if (const char* old = std::getenv("SSL_CERT_FILE")) saved_ = old;
    had_ = std::getenv("SSL_CERT_FILE") != nullptr;
    ::setenv("SSL_CERT_FILE", cert_file.c_str(), 1);
  }
  ~TrustOnly() { had_ ? ::setenv("SSL_CERT_FILE", saved_.c_str(), 1) : ::unsetenv("SSL_CERT_FILE"); }
  TrustOnly(const TrustOnly&) = delete;
  TrustOnly& operator=(const TrustOnly&) = delete;

 private:
  bool had_ = false;
  std::string saved_;
};

}  // namespace pmbench::chain::test

#endif  // PMBENCH_CHAIN_TESTING_LOCAL_LEDGER_H_
