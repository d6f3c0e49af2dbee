// Wall-clock time (Unix epoch, milliseconds), injectable for tests.
//
// Use this only where a time must survive a restart or be shown to a person (persisted
// throttle state, audit log timestamps). Durations inside one process use the monotonic
// Clock in base/time.h: the wall clock can jump in both directions (NTP, the user).
#pragma once

#include <cstdint>
#include <mutex>

namespace lifeline {

// Threading: implementations must be safe to call from any thread.
class WallClock {
 public:
  virtual ~WallClock() = default;
  // Milliseconds since 1970-01-01 00:00:00 UTC (CLOCK_REALTIME). May go backwards.
  virtual int64_t NowUnixMs() const = 0;
};

// The real clock. `Get()` returns a process-wide instance.
class SystemWallClock final : public WallClock {
 public:
  static const WallClock& Get();
  int64_t NowUnixMs() const override;
};

// A wall clock that moves only when told (also backwards). Thread-safe.
class FakeWallClock final : public WallClock {
 public:
  // Default start: 2023-11-14 22:13:20 UTC.
  explicit FakeWallClock(int64_t start_unix_ms = 1'700'000'000'000) : now_unix_ms_(start_unix_ms) {}
  int64_t NowUnixMs() const override {
    std::lock_guard lock(mutex_);
    return now_unix_ms_;
  }
  void AdvanceMs(int64_t delta_ms) {
    std::lock_guard lock(mutex_);
    now_unix_ms_ += delta_ms;
  }
  void SetUnixMs(int64_t now_unix_ms) {
    std::lock_guard lock(mutex_);
    now_unix_ms_ = now_unix_ms;
  }

 private:
  mutable std::mutex mutex_;
  int64_t now_unix_ms_;
};

}  // namespace lifeline
