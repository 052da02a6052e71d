#include "lib/scenario/processes.h"

#include "lib/metrics/exporter.h"
#include "lib/metrics/registry.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "lib/chain/logs_source.h"
#include "lib/db/database_url.h"
#include "lib/listener/ingest.h"
#include "lib/realtime/hub.h"
#include "lib/realtime/market_feed.h"
#include "lib/realtime/server.h"

namespace pmbench::scenario {

ChildProcess::ChildProcess(std::string name, const Body& body, double timeout_s) : name_(std::move(name)) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(name_ + ": pipe failed");
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(name_ + ": fork failed");
  }
  if (pid_ == 0) {
    close(fds[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);  // before any thread: only sigwait takes it
    int code = 1;
    try {
      code = body([fd = fds[1]](uint32_t word) { (void)!write(fd, &word, sizeof word); },
                  [term] {
                    int sig = 0;
                    sigwait(&term, &sig);
                  });
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pmbench: %s: %s\n", name_.c_str(), db::RedactSecrets(e.what()).c_str());
    }
    _exit(code);  // not exit(): the parent's atexit work (dropping schemas) is not the child's
  }
  close(fds[1]);
  from_child_ = fds[0];
  pollfd p{.fd = from_child_, .events = POLLIN, .revents = 0};
  const bool answered = poll(&p, 1, static_cast<int>(timeout_s * 1000)) == 1;
  if (!answered || read(from_child_, &word_, sizeof word_) != sizeof word_) {
    Stop(5);
    throw std::runtime_error(name_ + (answered ? " exited at start (its error is above)" : " did not start in time"));
  }
}

ChildProcess::~ChildProcess() { Stop(); }

bool ChildProcess::running() const {
  if (pid_ <= 0) return false;
  int status = 0;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

int ChildProcess::Stop(double timeout_s) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  pid_t got = 0;
  while ((got = waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (got == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  if (from_child_ >= 0) close(from_child_);
  from_child_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::unique_ptr<ChildProcess> StartListener(const ListenerOptions& o) {
  return std::make_unique<ChildProcess>("the listener", [o](const auto& ready, const auto& wait_for_term) {
    // Its /metrics on a free port, which `ready` reports: Prometheus finds it there.
    metrics::Registry registry;
    metrics::Exporter exporter(registry, "127.0.0.1:0");
    exporter.Start();
    std::atomic<bool> told{false};
    chain::LogsSource source({.url = o.ledger_ws, .mentions = o.program, .on_subscribed = [&] {
                                if (!told.exchange(true)) ready(exporter.port());
                              }});
    std::thread stopper([&] {
      wait_for_term();
      source.Stop();  // Ingest commits its open batch, then returns
    });
    int code = 0;
    try {
      listener::IngestOptions options{.url = o.url, .schema = o.schema, .source = "scenario", .linger_ms = 20,
                                      .continue_numbering = true, .program = o.program, .carrier = events::Carrier::kMemo};
      listener::ExportMetrics(options, registry);
      listener::Ingest([&](std::string& line, listener::Clock::time_point& at) { return source.Next(line, at); }, options);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pmbench: the listener: %s\n", db::RedactSecrets(e.what()).c_str());
      code = 1;
      kill(getpid(), SIGTERM);  // let the stopper go
    }
    stopper.join();
    return code;
  });
}

std::unique_ptr<ChildProcess> StartFanout(const std::string& direct_url, const std::string& schema, const std::string& address) {
  return std::make_unique<ChildProcess>("the fan-out server", [direct_url, schema, address](const auto& ready, const auto& wait_for_term) {
    realtime::Hub hub({.replay = 4096});
    realtime::MarketFeed feed(direct_url, schema, hub);
    feed.Start();
    realtime::Server server({.address = address, .port = 0}, hub);
    server.Start();
    ready(server.port());
    wait_for_term();
    server.Stop();
    feed.Stop();
    return 0;
  });
}

}  // namespace pmbench::scenario
