#include "base/time.h"

#include <ctime>

namespace lifeline {

int64_t MonotonicNowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// static
const Clock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

}  // namespace lifeline
