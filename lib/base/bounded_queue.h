// File: bounded_queue.h
//
// A blocking queue of bounded size between producer and consumer threads: the producer
// waits when consumers fall behind, so memory stays bounded however fast it is.
//
//   BoundedQueue<Batch> q(4);
//   producer:  if (!q.Push(std::move(batch))) return;   // false: consumers gave up
//              q.Finish();
//   consumers: while (auto batch = q.Pop()) Work(*batch);
//
// A thread blocked in Push or Pop must be released before it is joined, however the scope
// that owns the queue is left (a return, an exception): declare the guard after the
// threads, so it runs first.
//
//   std::jthread producer(...);
//   const auto guard = q.CloseOnExit();
#ifndef PMBENCH_BASE_BOUNDED_QUEUE_H_
#define PMBENCH_BASE_BOUNDED_QUEUE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace pmbench::base {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Waits for room; false when the queue was closed.
  bool Push(T item) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }

  // Waits for an item; nullopt once finished and drained, or closed.
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return !items_.empty() || finished_ || closed_; });
    if (closed_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    changed_.notify_all();
    return item;
  }

  // Like Pop, but gives up at `deadline`; `timed_out` tells a timeout from the end.
  template <typename TimePoint>
  std::optional<T> PopUntil(const TimePoint& deadline, bool& timed_out) {
    std::unique_lock lock(mu_);
    timed_out = !changed_.wait_until(lock, deadline, [&] { return !items_.empty() || finished_ || closed_; });
    if (timed_out || closed_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    changed_.notify_all();
    return item;
  }

  // Items waiting now (another thread may change it at once: a hint, not a promise).
  size_t Size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

  // The producer is done: consumers drain what is left.
  void Finish() { Set(finished_); }
  // The consumer side gave up: producers stop, consumers stop.
  void Close() { Set(closed_); }

  // Calls Close (or Finish) when it goes out of scope.
  class [[nodiscard]] OnExit {
   public:
    OnExit(BoundedQueue& q, bool finish) : q_(q), finish_(finish) {}
    OnExit(const OnExit&) = delete;
    OnExit& operator=(const OnExit&) = delete;
    ~OnExit() { finish_ ? q_.Finish() : q_.Close(); }

   private:
    BoundedQueue& q_;
    const bool finish_;
  };
  OnExit CloseOnExit() { return OnExit(*this, false); }
  OnExit FinishOnExit() { return OnExit(*this, true); }

 private:
  void Set(bool& flag) {
    std::lock_guard lock(mu_);
    flag = true;
    changed_.notify_all();
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<T> items_;
  bool finished_ = false;
  bool closed_ = false;
};

}  // namespace pmbench::base

#endif  // PMBENCH_BASE_BOUNDED_QUEUE_H_
