// File: testing/loopback_port.h
//
// For tests and benchmarks of any package: a TCP port on 127.0.0.1 where nothing listens,
// one the kernel handed out and took back (a server started on it may still lose a race).
#ifndef PMBENCH_BASE_TESTING_LOOPBACK_PORT_H_
#define PMBENCH_BASE_TESTING_LOOPBACK_PORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

namespace pmbench::base::test {

inline uint16_t FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("cannot find a free loopback port");
  return ntohs(a.sin_port);
}

}  // namespace pmbench::base::test

#endif  // PMBENCH_BASE_TESTING_LOOPBACK_PORT_H_
