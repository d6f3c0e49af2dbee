// LatestSlot<T>: a one-element hand-over where the newest value wins.
//
// A producer Put()s values; a consumer Take()s the newest one. A value that was never
// taken is replaced, after `merge(older, newer)` has had a chance to fold what the older
// one carried into the newer one (for raw frames: the union of their damage). This is the
// only place raw frames are dropped, by design.
//
// Threading: Put, Take, WaitAndTake and Close may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace lifeline {

template <typename T>
class LatestSlot {
 public:
  using MergeFn = std::function<void(T& older, T& newer)>;

  explicit LatestSlot(MergeFn merge = nullptr) : merge_(std::move(merge)) {}

  // Stores `value`, replacing (and merging) an untaken one. Returns false after Close().
  bool Put(T value) {
    {
      std::lock_guard lock(mutex_);
      if (closed_)
        return false;
      if (value_ && merge_)
        merge_(*value_, value);
      if (value_)
        ++replaced_count_;
      value_ = std::move(value);
    }
    cv_.notify_all();
    return true;
  }

  // Takes the newest value, if any, without waiting.
  std::optional<T> Take() {
    std::lock_guard lock(mutex_);
    return TakeLocked();
  }

  // Waits up to `timeout` for a value. Returns nullopt on timeout or after Close().
  template <typename Rep, typename Period>
  std::optional<T> WaitAndTake(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return value_.has_value() || closed_; });
    if (closed_)
      return std::nullopt;
    return TakeLocked();
  }

  bool HasValue() const {
    std::lock_guard lock(mutex_);
    return value_.has_value();
  }

  // Wakes every waiter; later Puts fail. The stored value is discarded.
  void Close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      value_.reset();
    }
    cv_.notify_all();
  }

  // How many values were replaced before being taken (dropped raw frames).
  uint64_t replaced_count() const {
    std::lock_guard lock(mutex_);
    return replaced_count_;
  }

 private:
  std::optional<T> TakeLocked() {
    std::optional<T> out = std::move(value_);
    value_.reset();
    return out;
  }

  MergeFn merge_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<T> value_;
  bool closed_ = false;
  uint64_t replaced_count_ = 0;
};

}  // namespace lifeline
