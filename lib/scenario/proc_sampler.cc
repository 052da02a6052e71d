#include "lib/scenario/proc_sampler.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

namespace pmbench::scenario {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// utime + stime of /proc/PID/stat in seconds; -1 when the process is gone.
double CpuSeconds(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');  // comm may hold spaces and parentheses
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (utime + stime) / kTicks;
}

double RssMb(pid_t pid) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/statm"));
  double size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  static const double kPage = static_cast<double>(sysconf(_SC_PAGESIZE));
  return resident * kPage / (1024.0 * 1024.0);
}

}  // namespace

PidFinder Self() {
  return [] { return std::vector<pid_t>{getpid()}; };
}

PidFinder Pid(pid_t pid) {
  return [pid] { return std::vector<pid_t>{pid}; };
}

PidFinder ByName(const std::string& comm, const std::string& arg) {
  return [comm, arg] {
    std::vector<pid_t> out;
    DIR* d = opendir("/proc");
    if (!d) return out;
    while (const dirent* e = readdir(d)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid <= 0) continue;
      std::string c = ReadFile("/proc/" + std::to_string(pid) + "/comm");
      if (!c.empty() && c.back() == '\n') c.pop_back();
      if (c != comm) continue;
      if (!arg.empty()) {
        std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (cmdline.find(arg) == std::string::npos) continue;
      }
      out.push_back(pid);
    }
    closedir(d);
    return out;
  };
}

pid_t ParentOf(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  std::string state;
  pid_t parent = -1;
  in >> state >> parent;
  return in ? parent : -1;
}

namespace {

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  if (DIR* d = opendir("/proc")) {
    while (const dirent* e = readdir(d)) {
      if (const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name)); pid > 0) out.push_back(pid);
    }
    closedir(d);
  }
  return out;
}

}  // namespace

PidFinder WithChildren(pid_t pid) {
  return [pid] {
    std::vector<pid_t> out = {pid};
    for (const pid_t p : AllPids()) {
      if (ParentOf(p) == pid) out.push_back(p);
    }
    return out;
  };
}

PidFinder ListeningOn(int port) {
  std::vector<std::string> inodes;  // of sockets listening on the port (state 0A)
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream in(ReadFile(table));
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (state == "0A" && colon != std::string::npos && std::stoi(local.substr(colon + 1), nullptr, 16) == port) {
        inodes.push_back("socket:[" + inode + "]");
      }
    }
  }
  std::vector<pid_t> found;
  for (const pid_t p : inodes.empty() ? std::vector<pid_t>{} : AllPids()) {
    const std::string fds = "/proc/" + std::to_string(p) + "/fd";
    DIR* d = opendir(fds.c_str());
    if (!d) continue;
    bool listens = false;
    while (const dirent* e = readdir(d)) {
      char target[64] = {};
      const std::string link = fds + "/" + e->d_name;
      if (readlink(link.c_str(), target, sizeof target - 1) > 0 &&
          std::find(inodes.begin(), inodes.end(), target) != inodes.end()) {
        listens = true;
        break;
      }
    }
    closedir(d);
    if (listens) found.push_back(p);
  }
  return [found] { return found; };
}

double ProcessGroupUse::rss_mb_max() const { return rss_mb.empty() ? 0 : *std::max_element(rss_mb.begin(), rss_mb.end()); }

ProcSampler::ProcSampler(std::vector<std::pair<std::string, PidFinder>> groups, double interval_s)
    : groups_(std::move(groups)), interval_s_(interval_s), last_cpu_(groups_.size()) {
  for (const auto& [name, _] : groups_) use_.push_back({.name = name});
  const auto t0 = std::chrono::steady_clock::now();
  Sample(0);
  thread_ = std::thread([this, t0] {
    for (auto next = t0 + std::chrono::duration<double>(interval_s_); !stop_; next += std::chrono::duration<double>(interval_s_)) {
      while (!stop_ && std::chrono::steady_clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (stop_) break;
      Sample(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  });
}

ProcSampler::~ProcSampler() { Stop(); }

void ProcSampler::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ProcSampler::Sample(double t) {
  std::lock_guard lock(mu_);
  for (size_t g = 0; g < groups_.size(); ++g) {
    ProcessGroupUse& u = use_[g];
    std::map<pid_t, double> now;
    double used = 0, rss = 0;
    for (const pid_t pid : groups_[g].second()) {
      const double cpu = CpuSeconds(pid);
      if (cpu < 0) continue;
      now[pid] = cpu;
      rss += RssMb(pid);
      const auto before = last_cpu_[g].find(pid);
      // Present at the first sample: only what it uses from now on. Born since: all of it.
      if (before != last_cpu_[g].end()) used += std::max(0.0, cpu - before->second);
      else if (!first_) used += cpu;
    }
    last_cpu_[g] = std::move(now);
    u.cpu_s += used;
    if (!first_) {
      u.t_s.push_back(t);
      u.cpu_share.push_back(t > last_t_ ? used / (t - last_t_) : 0);
      u.rss_mb.push_back(rss);
      u.processes.push_back(static_cast<double>(last_cpu_[g].size()));
    }
  }
  last_t_ = t;
  first_ = false;
}

std::vector<ProcessGroupUse> ProcSampler::Result() const {
  std::lock_guard lock(mu_);
  return use_;
}

}  // namespace pmbench::scenario
