// DO NOT INCLUDE THIS FILE outside lib/realtime tests.
//
// A subscriber that keeps every frame it is sent, for tests of the hub and the feed.
#ifndef PMBENCH_REALTIME_INTERNAL_RECORDING_SUBSCRIBER_H_
#define PMBENCH_REALTIME_INTERNAL_RECORDING_SUBSCRIBER_H_

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/realtime/hub.h"

namespace pmbench::realtime::internal {

struct RecordingSubscriber : Subscriber {
  std::mutex mu;
  std::vector<std::string> frames;

  void Send(Frame f) override {
    std::lock_guard lock(mu);
    frames.push_back(f->text);
  }
  // The frames once there are `n` of them, or what came within 5 s.
  std::vector<std::string> Wait(size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu);
        if (frames.size() >= n) return frames;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::lock_guard lock(mu);
    return frames;
  }
};

}  // namespace pmbench::realtime::internal

#endif  // PMBENCH_REALTIME_INTERNAL_RECORDING_SUBSCRIBER_H_
