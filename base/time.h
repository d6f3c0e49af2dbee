// Monotonic time in microseconds, and an injectable clock for schedulers and tests.
#pragma once

#include <cstdint>
#include <mutex>

namespace lifeline {

// CLOCK_MONOTONIC in microseconds. Comparable across processes on the same machine
// (the viewer's latency measurement relies on this only through ClockSync, which also
// works across machines).
int64_t MonotonicNowUs();

// Threading: implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowUs() const = 0;
};

// The real monotonic clock. `Get()` returns a process-wide instance.
class SystemClock final : public Clock {
 public:
  static const Clock& Get();
  int64_t NowUs() const override { return MonotonicNowUs(); }
};

// A clock that moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_us = 1'000'000) : now_us_(start_us) {}
  int64_t NowUs() const override {
    std::lock_guard lock(mutex_);
    return now_us_;
  }
  void AdvanceUs(int64_t delta_us) {
    std::lock_guard lock(mutex_);
    now_us_ += delta_us;
  }
  void SetUs(int64_t now_us) {
    std::lock_guard lock(mutex_);
    now_us_ = now_us;
  }

 private:
  mutable std::mutex mutex_;
  int64_t now_us_;
};

}  // namespace lifeline
