// BoundedQueue<T>: a FIFO with a fixed capacity that never drops silently.
//
// TryPush fails (returns false) when the queue is full or closed; the caller decides
// what that means (for encoded frames: a protocol error, never a silent drop).
//
// Threading: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace lifeline {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  bool TryPush(T value) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_)
        return false;
      items_.push_back(std::move(value));
    }
    cv_.notify_one();
    return true;
  }

  std::optional<T> TryPop() {
    std::lock_guard lock(mutex_);
    if (items_.empty())
      return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    return value;
  }

  // Waits up to `timeout` for an item. Returns nullopt on timeout, or when the queue is
  // closed and empty.
  template <typename Rep, typename Period>
  std::optional<T> WaitPop(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
    if (items_.empty())
      return std::nullopt;
    T value = std::move(items_.front());
    items_.pop_front();
    return value;
  }

  void Close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace lifeline
