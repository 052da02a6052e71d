#include "lib/scenario/proc_sampler.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace pmbench::scenario {
namespace {

TEST(ProcSamplerTest, CountsTheCpuAGroupUsesDuringTheRun) {
  volatile uint64_t sink = 0;
  for (uint64_t i = 0; i < 200'000'000; ++i) sink = sink + i;  // before the sampler: not counted
  ProcSampler sampler({{"self", Self()}, {"nobody", ByName("no-such-process")}, {"init", Pid(1)}}, 0.1);
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(600)) sink = sink + 1;  // busy
  sampler.Stop();
  const auto use = sampler.Result();
  ASSERT_EQ(use.size(), 3u);
  EXPECT_GE(use[0].cpu_s, 0.3);
  EXPECT_LE(use[0].cpu_s, 1.2);
  EXPECT_GE(use[0].t_s.size(), 4u);
  EXPECT_GT(use[0].rss_mb_max(), 1);
  EXPECT_EQ(use[0].processes.back(), 1);
  EXPECT_EQ(use[1].cpu_s, 0);
  EXPECT_EQ(use[1].processes.back(), 0);
  EXPECT_LT(use[2].cpu_s, 0.3);  // an idle process: only what it used meanwhile
}

TEST(ProcSamplerTest, FindsAListenerByItsPortAndAParentWithItsChildren) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  EXPECT_EQ(ListeningOn(ntohs(a.sin_port))(), std::vector<pid_t>{getpid()});
  ::close(fd);
  EXPECT_TRUE(ListeningOn(ntohs(a.sin_port))().empty());

  EXPECT_EQ(ParentOf(getpid()), getppid());
  const pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  const auto family = WithChildren(getpid())();
  EXPECT_EQ(family.front(), getpid());
  EXPECT_NE(std::find(family.begin(), family.end(), child), family.end());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

TEST(ProcSamplerTest, FindsProcessesByNameAndArgument) {
  const auto mine = ByName("scenario_test")();
  EXPECT_NE(std::find(mine.begin(), mine.end(), getpid()), mine.end());
  EXPECT_TRUE(ByName("scenario_test", "--no-such-argument")().empty());
}

}  // namespace
}  // namespace pmbench::scenario
