#include "capture/synthetic_capturer.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>

#include "base/time.h"

namespace lifeline {
namespace {

std::unique_ptr<Frame> Capture(SyntheticCapturer& capturer) {
  std::unique_ptr<Frame> frame;
  REQUIRE(capturer.CaptureFrame(&frame) == CaptureResult::kSuccess);
  REQUIRE(frame);
  return frame;
}

bool SamePixels(const Frame& a, const Frame& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), static_cast<size_t>(a.stride()) * a.height()) == 0;
}

bool RegionContainsPoint(const Region& region, int x, int y) {
  for (const Rect& r : region.rects()) {
    if (x >= r.x && x < r.right() && y >= r.y && y < r.bottom())
      return true;
  }
  return false;
}

// Number of pixels that differ between `a` and `b` outside `region`.
int ChangedPixelsOutside(const Frame& a, const Frame& b, const Region& region) {
  int count = 0;
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) {
      if (std::memcmp(a.PixelAt(x, y), b.PixelAt(x, y), 4) != 0 &&
          !RegionContainsPoint(region, x, y)) {
        ++count;
      }
    }
  }
  return count;
}

TEST_CASE("SyntheticCapturer frames are deterministic and match PaintFrame", "[synthetic]") {
  SyntheticCapturer a(Size{320, 240});
  SyntheticCapturer b(Size{320, 240});
  for (uint64_t i = 0; i < 5; ++i) {
    auto fa = Capture(a);
    auto fb = Capture(b);
    REQUIRE(fa->sequence() == i);
    CHECK(SamePixels(*fa, *fb));
    Frame painted(Size{320, 240});
    SyntheticCapturer::PaintFrame(i, &painted);
    CHECK(SamePixels(*fa, painted));
  }
  CHECK(a.name() == "synthetic");
  CHECK(a.screen_size() == Size{320, 240});
}

TEST_CASE("SyntheticCapturer sets sequence, capture time and duration", "[synthetic]") {
  SyntheticCapturer capturer(Size{160, 120});
  const int64_t before_us = MonotonicNowUs();
  auto first = Capture(capturer);
  auto second = Capture(capturer);
  const int64_t after_us = MonotonicNowUs();
  CHECK(first->sequence() == 0);
  CHECK(second->sequence() == 1);
  CHECK(first->capture_time_us() >= before_us);
  CHECK(second->capture_time_us() >= first->capture_time_us());
  CHECK(second->capture_time_us() <= after_us);
  CHECK(first->capture_duration_us() >= 0);
  CHECK(first->capture_duration_us() <= after_us - before_us);
}

TEST_CASE("SyntheticCapturer paints opaque pixels with fine high-contrast detail", "[synthetic]") {
  Frame frame(Size{320, 240});
  SyntheticCapturer::PaintFrame(0, &frame);
  int alpha_not_opaque = 0;
  int black_white_neighbours = 0;
  for (int y = 0; y < frame.height(); ++y) {
    for (int x = 0; x < frame.width(); ++x) {
      if (frame.PixelAt(x, y)[3] != 255)
        ++alpha_not_opaque;
      if (x > 0 && frame.PixelAt(x, y)[1] == 0 && frame.PixelAt(x - 1, y)[1] == 255 &&
          frame.PixelAt(x, y)[0] == 0 && frame.PixelAt(x - 1, y)[0] == 255) {
        ++black_white_neighbours;
      }
    }
  }
  CHECK(alpha_not_opaque == 0);
  // 1-pixel stripes and the 2x2 checkerboard give thousands of black/white edges.
  CHECK(black_white_neighbours > 1000);
}

TEST_CASE("SyntheticCapturer's first frame carries its whole area", "[synthetic]") {
  SyntheticCapturer capturer(Size{320, 240});
  auto first = Capture(capturer);
  REQUIRE(first->updated_region().rects().size() == 1);
  CHECK(first->updated_region().rects()[0] == Rect{0, 0, 320, 240});
  auto second = Capture(capturer);
  CHECK(second->updated_region().AreaUpperBound() < 320 * 240 / 2);
}

TEST_CASE("SyntheticCapturer's updated region covers every changed pixel and little else",
          "[synthetic]") {
  // 230 frames: the box bounces off every edge, the counter grows from 1 to 3 digits.
  const Size size{320, 240};
  SyntheticCapturer capturer(size);
  auto previous = Capture(capturer);
  for (uint64_t i = 1; i < 230; ++i) {
    auto frame = Capture(capturer);
    REQUIRE(frame->sequence() == i);
    const Region& region = frame->updated_region();
    INFO("frame " << i);
    REQUIRE(ChangedPixelsOutside(*previous, *frame, region) == 0);
    // Exactly the old box, the new box and the counter plate; never the whole frame.
    Region expected;
    expected.Add(SyntheticCapturer::BoxRect(size, i - 1));
    expected.Add(SyntheticCapturer::BoxRect(size, i));
    expected.Add(SyntheticCapturer::CounterRect(size, i));
    CHECK(region.rects() == expected.rects());
    CHECK(region.AreaUpperBound() < int64_t{size.width} * size.height / 4);
    // The box moves every frame, and its old place is repainted.
    CHECK(SyntheticCapturer::BoxRect(size, i) != SyntheticCapturer::BoxRect(size, i - 1));
    previous = std::move(frame);
  }
}

TEST_CASE("SyntheticCapturer's counter plate only grows", "[synthetic]") {
  const Size size{1280, 720};
  for (uint64_t i : std::initializer_list<uint64_t>{1, 9, 10, 99, 100, 999999}) {
    INFO("frame " << i);
    CHECK(SyntheticCapturer::CounterRect(size, i).Contains(
        SyntheticCapturer::CounterRect(size, i - 1)));
  }
  CHECK(SyntheticCapturer::CounterRect(size, 10).width >
        SyntheticCapturer::CounterRect(size, 9).width);
}

TEST_CASE("SyntheticCapturer's frame counter shows the frame number", "[synthetic]") {
  const Size size{1280, 720};
  for (uint64_t i : std::initializer_list<uint64_t>{0, 1, 7, 9, 10, 42, 99, 100, 12345, 9876543210,
                                                    UINT64_MAX}) {
    Frame frame(size);
    SyntheticCapturer::PaintFrame(i, &frame);
    INFO("frame " << i);
    CHECK(SyntheticCapturer::ReadFrameCounter(frame) == i);
  }
  // Consecutive frames differ inside the counter plate.
  Frame a(size);
  Frame b(size);
  SyntheticCapturer::PaintFrame(3, &a);
  SyntheticCapturer::PaintFrame(4, &b);
  const Rect plate = SyntheticCapturer::CounterRect(size, 4);
  int differing = 0;
  for (int y = plate.y; y < plate.bottom(); ++y) {
    for (int x = plate.x; x < plate.right(); ++x) {
      if (std::memcmp(a.PixelAt(x, y), b.PixelAt(x, y), 4) != 0)
        ++differing;
    }
  }
  CHECK(differing >= SyntheticCapturer::kDigitCellPx * SyntheticCapturer::kDigitCellPx);
}

TEST_CASE("Every captured frame's counter reads back, wherever the box is", "[synthetic]") {
  // At 640x360 the box passes over and beside the plate in the first frames.
  SyntheticCapturer capturer(Size{640, 360});
  int overlapping = 0;
  for (uint64_t i = 0; i < 300; ++i) {
    auto frame = Capture(capturer);
    const Rect near_plate{0, 0, SyntheticCapturer::CounterRect(frame->size(), i).right() + 64,
                          SyntheticCapturer::CounterRect(frame->size(), i).bottom() + 16};
    if (!SyntheticCapturer::BoxRect(frame->size(), i).Intersect(near_plate).empty()) {
      ++overlapping;
    }
    INFO("frame " << i);
    REQUIRE(SyntheticCapturer::ReadFrameCounter(*frame) == i);
  }
  CHECK(overlapping > 5);  // The test covers what it claims to.
}

TEST_CASE("The frame counter survives noise like lossy compression adds", "[synthetic]") {
  Frame frame(Size{640, 360});
  SyntheticCapturer::PaintFrame(2024, &frame);
  // Deterministic noise of up to +-60 per channel, and a 2-pixel blur of the cell edges
  // does not matter because only cell centres are read.
  uint32_t state = 12345;
  for (int y = 0; y < frame.height(); ++y) {
    for (int x = 0; x < frame.width(); ++x) {
      for (int c = 0; c < 3; ++c) {
        state = state * 1664525u + 1013904223u;
        const int noise = static_cast<int>(state >> 24) % 121 - 60;
        uint8_t& v = frame.PixelAt(x, y)[c];
        v = static_cast<uint8_t>(std::clamp(v + noise, 0, 255));
      }
    }
  }
  CHECK(SyntheticCapturer::ReadFrameCounter(frame) == 2024u);
}

TEST_CASE("ReadFrameCounter finds nothing where no counter was painted", "[synthetic]") {
  Frame black(Size{640, 360});
  CHECK_FALSE(SyntheticCapturer::ReadFrameCounter(black).has_value());
  Frame white(Size{640, 360});
  std::memset(white.data(), 255, static_cast<size_t>(white.stride()) * white.height());
  CHECK_FALSE(SyntheticCapturer::ReadFrameCounter(white).has_value());
  // Too narrow for the plate: no crash, no wrong number.
  Frame narrow(Size{60, 40});
  SyntheticCapturer::PaintFrame(123, &narrow);
  CHECK_FALSE(SyntheticCapturer::ReadFrameCounter(narrow).has_value());
  CHECK_FALSE(SyntheticCapturer::ReadFrameCounter(nullptr, 0, Size{10, 10}).has_value());
}

TEST_CASE("A damaged digit gives no number rather than a wrong one", "[synthetic]") {
  Frame frame(Size{640, 360});
  SyntheticCapturer::PaintFrame(555, &frame);
  // Paint the middle digit's cells white.
  const Rect plate = SyntheticCapturer::CounterRect(frame.size(), 555);
  const int cell = SyntheticCapturer::kDigitCellPx;
  for (int y = plate.y + cell; y < plate.y + 8 * cell; ++y) {
    for (int x = plate.x + 7 * cell; x < plate.x + 12 * cell; ++x) {
      std::memset(frame.PixelAt(x, y), 255, 4);
    }
  }
  CHECK_FALSE(SyntheticCapturer::ReadFrameCounter(frame).has_value());
}

TEST_CASE("SyntheticCapturer::SetSize gives a whole new frame of the new size", "[synthetic]") {
  SyntheticCapturer capturer(Size{320, 240});
  Capture(capturer);
  Capture(capturer);
  capturer.SetSize(Size{200, 100});
  CHECK(capturer.screen_size() == Size{200, 100});
  auto resized = Capture(capturer);
  CHECK(resized->size() == Size{200, 100});
  CHECK(resized->sequence() == 2);
  REQUIRE(resized->updated_region().rects().size() == 1);
  CHECK(resized->updated_region().rects()[0] == Rect{0, 0, 200, 100});
  Frame painted(Size{200, 100});
  SyntheticCapturer::PaintFrame(2, &painted);
  CHECK(SamePixels(*resized, painted));
  auto next = Capture(capturer);
  CHECK(next->updated_region().AreaUpperBound() < 200 * 100);
}

TEST_CASE("SyntheticCapturer keeps tiny frames inside their bounds", "[synthetic]") {
  for (Size size : {Size{1, 1}, Size{3, 50}, Size{50, 3}, Size{17, 17}}) {
    SyntheticCapturer capturer(size);
    for (int i = 0; i < 20; ++i) {
      auto frame = Capture(capturer);
      CHECK(Rect::FromSize(size).Contains(frame->updated_region().BoundingBox()));
      CHECK(Rect::FromSize(size).Contains(SyntheticCapturer::BoxRect(size, i)));
    }
  }
}

}  // namespace
}  // namespace lifeline
