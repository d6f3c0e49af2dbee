#include <catch2/catch.hpp>

#include <ctime>

#include "base/wall_clock.h"

namespace lifeline {
namespace {

TEST_CASE("System wall clock is Unix time in milliseconds", "[base][wall_clock]") {
  const int64_t before_ms = static_cast<int64_t>(std::time(nullptr)) * 1000;
  const int64_t now_ms = SystemWallClock::Get().NowUnixMs();
  const int64_t after_ms = static_cast<int64_t>(std::time(nullptr)) * 1000 + 1000;
  CHECK(now_ms >= before_ms);
  CHECK(now_ms <= after_ms);
}

TEST_CASE("Fake wall clock moves only when told, also backwards", "[base][wall_clock]") {
  FakeWallClock clock(5000);
  CHECK(clock.NowUnixMs() == 5000);
  clock.AdvanceMs(250);
  CHECK(clock.NowUnixMs() == 5250);
  clock.AdvanceMs(-1000);
  CHECK(clock.NowUnixMs() == 4250);
  clock.SetUnixMs(42);
  CHECK(clock.NowUnixMs() == 42);
}

}  // namespace
}  // namespace lifeline
