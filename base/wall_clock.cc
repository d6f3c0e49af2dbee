#include "base/wall_clock.h"

#include <ctime>

namespace lifeline {

// static
const WallClock& SystemWallClock::Get() {
  static const SystemWallClock clock;
  return clock;
}

int64_t SystemWallClock::NowUnixMs() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace lifeline
