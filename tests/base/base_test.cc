#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "base/bounded_queue.h"
#include "base/error_code.h"
#include "base/geometry.h"
#include "base/latest_slot.h"
#include "base/status.h"
#include "base/time.h"

namespace lifeline {
namespace {

TEST_CASE("Rect intersection and union", "[base]") {
  Rect a{0, 0, 10, 10};
  Rect b{5, 5, 10, 10};
  CHECK(a.Intersect(b) == Rect{5, 5, 5, 5});
  CHECK(a.BoundingUnion(b) == Rect{0, 0, 15, 15});
  CHECK(a.Intersect(Rect{20, 20, 1, 1}).empty());
  CHECK(a.Contains(Rect{1, 1, 2, 2}));
  CHECK_FALSE(a.Contains(b));
}

TEST_CASE("Region keeps rectangles, drops contained ones, collapses when large", "[base]") {
  Region region;
  region.Add(Rect{0, 0, 10, 10});
  region.Add(Rect{2, 2, 3, 3});  // Contained: ignored.
  CHECK(region.rects().size() == 1);
  region.Add(Rect{0, 0, 20, 20});  // Contains the first: replaces it.
  CHECK(region.rects().size() == 1);
  CHECK(region.BoundingBox() == Rect{0, 0, 20, 20});
  for (int i = 0; i < 40; ++i)
    region.Add(Rect{100 + i * 10, 100, 5, 5});
  CHECK(region.rects().size() <= Region::kMaxRects);
  CHECK(region.BoundingBox().Contains(Rect{0, 0, 20, 20}));
  CHECK(region.BoundingBox().Contains(Rect{490, 100, 5, 5}));
  region.ClipTo(Rect{0, 0, 50, 50});
  CHECK(region.BoundingBox().right() <= 50);
}

TEST_CASE("Status and Expected carry errors with codes", "[base]") {
  Status ok;
  CHECK(ok.ok());
  Status bad(ErrorCode::kSettingsInvalid, "host.listen: bad port");
  CHECK_FALSE(bad.ok());
  CHECK(bad.code() == ErrorCode::kSettingsInvalid);
  CHECK(bad.ToString() == "host.listen: bad port (E100 invalid setting)");
  Expected<int> value(42);
  REQUIRE(value.ok());
  CHECK(*value == 42);
  Expected<int> error(ErrorCode::kFileIo, "x");
  CHECK_FALSE(error.ok());
  CHECK(error.error().code == ErrorCode::kFileIo);
}

TEST_CASE("Every error code has a description; unknown numbers are rejected", "[base]") {
  CHECK(IsKnownErrorCode(203));
  CHECK(ToString(ErrorCode::kConnectionClosed) == "connection closed by peer");
  CHECK_FALSE(IsKnownErrorCode(9999));
  CHECK_FALSE(IsKnownErrorCode(0x10000 + 203));
}

TEST_CASE("LatestSlot keeps the newest value and merges the replaced one", "[base]") {
  LatestSlot<int> slot([](int& older, int& newer) { newer += older * 100; });
  CHECK(slot.Put(1));
  CHECK(slot.Put(2));  // Replaces 1, merged: 2 + 100.
  auto v = slot.Take();
  REQUIRE(v);
  CHECK(*v == 102);
  CHECK(slot.replaced_count() == 1);
  CHECK_FALSE(slot.Take());
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    slot.Put(7);
  });
  auto w = slot.WaitAndTake(std::chrono::seconds(5));
  producer.join();
  REQUIRE(w);
  CHECK(*w == 7);
  slot.Close();
  CHECK_FALSE(slot.Put(8));
  CHECK_FALSE(slot.WaitAndTake(std::chrono::milliseconds(1)));
}

TEST_CASE("BoundedQueue refuses instead of dropping", "[base]") {
  BoundedQueue<int> queue(2);
  CHECK(queue.TryPush(1));
  CHECK(queue.TryPush(2));
  CHECK_FALSE(queue.TryPush(3));
  CHECK(queue.size() == 2);
  CHECK(*queue.TryPop() == 1);
  CHECK(*queue.WaitPop(std::chrono::milliseconds(1)) == 2);
  CHECK_FALSE(queue.WaitPop(std::chrono::milliseconds(1)));
  queue.Close();
  CHECK_FALSE(queue.TryPush(4));
}

TEST_CASE("FakeClock moves only when told", "[base]") {
  FakeClock clock(5);
  CHECK(clock.NowUs() == 5);
  clock.AdvanceUs(10);
  CHECK(clock.NowUs() == 15);
  const int64_t a = SystemClock::Get().NowUs();
  const int64_t b = MonotonicNowUs();
  CHECK(b >= a);
}

}  // namespace
}  // namespace lifeline
