// The X11 capturer against real Xvfb servers (each test starts its own).
#include "capture/x11/screen_capturer_x11.h"

#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/time.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/x11_painter.h"
#include "tests/support/xvfb.h"

namespace lifeline {
namespace {

using testing::X11Painter;
using testing::Xvfb;

// An odd size: neither side is a multiple of the 32-pixel tiles.
constexpr Size kScreen{1000, 700};

// Every pixel different, every channel value used: catches swapped channels, a wrong
// stride or an off-by-one row.
std::vector<uint8_t> Pattern(Size size, uint32_t seed) {
  std::vector<uint8_t> bgra(static_cast<size_t>(size.width) * size.height * 4);
  uint32_t state = seed;
  for (size_t i = 0; i < bgra.size(); i += 4) {
    state = state * 1664525u + 1013904223u;
    bgra[i + 0] = static_cast<uint8_t>(state >> 8);
    bgra[i + 1] = static_cast<uint8_t>(state >> 16);
    bgra[i + 2] = static_cast<uint8_t>(state >> 24);
    bgra[i + 3] = static_cast<uint8_t>(state);  // Alpha: must be ignored.
  }
  return bgra;
}

std::unique_ptr<ScreenCapturer> MakeCapturer(
    const std::string& display,
    X11ImageTransfer transfer = X11ImageTransfer::kSharedMemory,
    X11DamageMode damage_mode = X11DamageMode::kCompareTiles) {
  X11CaptureOptions options;
  options.display = display;
  options.transfer = transfer;
  options.damage_mode = damage_mode;
  auto capturer = CreateX11ScreenCapturer(options);
  INFO((capturer.ok() ? std::string() : capturer.error().ToString()));
  REQUIRE(capturer.ok());
  return std::move(capturer).value();
}

std::unique_ptr<Frame> Capture(ScreenCapturer& capturer) {
  std::unique_ptr<Frame> frame;
  REQUIRE(capturer.CaptureFrame(&frame) == CaptureResult::kSuccess);
  REQUIRE(frame);
  return frame;
}

// Pixels of `frame` whose B, G, R differ from `bgra` (tightly packed), or whose alpha is
// not 255.
int MismatchedPixels(const Frame& frame, const std::vector<uint8_t>& bgra) {
  int mismatches = 0;
  for (int y = 0; y < frame.height(); ++y) {
    for (int x = 0; x < frame.width(); ++x) {
      const uint8_t* got = frame.PixelAt(x, y);
      const uint8_t* want = &bgra[(static_cast<size_t>(y) * frame.width() + x) * 4];
      if (got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != 255) {
        ++mismatches;
      }
    }
  }
  return mismatches;
}

bool Covers(const Region& region, const Rect& rect) {
  for (int y = rect.y; y < rect.bottom(); ++y) {
    for (int x = rect.x; x < rect.right(); ++x) {
      bool inside = false;
      for (const Rect& r : region.rects())
        inside = inside || r.Contains(Rect{x, y, 1, 1});
      if (!inside)
        return false;
    }
  }
  return true;
}

void CheckCapturesPatternExactly(X11ImageTransfer transfer, std::string_view expected_name) {
  Xvfb xvfb(kScreen.width, kScreen.height);
  X11Painter painter(xvfb.display());
  const std::vector<uint8_t> pattern = Pattern(kScreen, 7);
  painter.PutBgra(Rect::FromSize(kScreen), pattern.data(), kScreen.width * 4);
  // The painter works: the server shows the pattern (the capturer's reference).
  REQUIRE(painter.ReadRootBgra() == [&] {
    std::vector<uint8_t> opaque = pattern;
    for (size_t i = 3; i < opaque.size(); i += 4)
      opaque[i] = 255;
    return opaque;
  }());

  auto capturer = MakeCapturer(xvfb.display(), transfer);
  CHECK(capturer->name() == expected_name);
  CHECK(capturer->screen_size() == kScreen);
  const int64_t before_us = MonotonicNowUs();
  auto frame = Capture(*capturer);
  const int64_t after_us = MonotonicNowUs();
  REQUIRE(frame->size() == kScreen);
  CHECK(MismatchedPixels(*frame, pattern) == 0);
  REQUIRE(frame->updated_region().rects().size() == 1);
  CHECK(frame->updated_region().rects()[0] == Rect::FromSize(kScreen));
  CHECK(frame->sequence() == 0);
  CHECK(frame->capture_time_us() >= before_us);
  CHECK(frame->capture_time_us() <= after_us);
  CHECK(frame->capture_duration_us() >= 0);
  CHECK(frame->capture_duration_us() <= after_us - before_us);

  auto second = Capture(*capturer);
  CHECK(second->sequence() == 1);
  CHECK(MismatchedPixels(*second, pattern) == 0);
}

TEST_CASE("X11 capturer (XShm) reads exactly the pixels on the screen", "[display]") {
  CheckCapturesPatternExactly(X11ImageTransfer::kSharedMemory, "x11-shm");
}

TEST_CASE("X11 capturer (XGetImage) reads exactly the pixels on the screen", "[display]") {
  CheckCapturesPatternExactly(X11ImageTransfer::kGetImage, "x11-getimage");
}

TEST_CASE("X11 capturer reports only the tiles that changed", "[display]") {
  Xvfb xvfb(kScreen.width, kScreen.height);
  X11Painter painter(xvfb.display());
  std::vector<uint8_t> screen = Pattern(kScreen, 11);
  painter.PutBgra(Rect::FromSize(kScreen), screen.data(), kScreen.width * 4);
  auto capturer = MakeCapturer(xvfb.display());

  auto first = Capture(*capturer);
  CHECK(first->updated_region().BoundingBox() == Rect::FromSize(kScreen));

  SECTION("nothing changed: empty region") {
    auto frame = Capture(*capturer);
    CHECK(frame->updated_region().empty());
    CHECK(MismatchedPixels(*frame, screen) == 0);
  }

  SECTION("one small change: the tiles it touches") {
    const Rect change{301, 205, 50, 40};  // Tiles x 288-351, y 192-255.
    painter.Fill(change, 0x123456);
    auto frame = Capture(*capturer);
    REQUIRE(frame->updated_region().rects().size() == 1);
    CHECK(frame->updated_region().rects()[0] == Rect{288, 192, 64, 64});
    const uint8_t* pixel = frame->PixelAt(change.x, change.y);
    CHECK((pixel[0] == 0x56 && pixel[1] == 0x34 && pixel[2] == 0x12 && pixel[3] == 255));
    // Outside the change, the pattern is intact.
    CHECK(std::memcmp(frame->PixelAt(0, 0), first->PixelAt(0, 0), 4) == 0);

    // Nothing more changes: the next region is empty again.
    auto next = Capture(*capturer);
    CHECK(next->updated_region().empty());
  }

  SECTION("a change in the bottom-right corner: the clipped edge tiles") {
    painter.Fill(Rect{990, 695, 10, 5}, 0xffffff);
    auto frame = Capture(*capturer);
    REQUIRE(frame->updated_region().rects().size() == 1);
    CHECK(frame->updated_region().rects()[0] == Rect{960, 672, 40, 28});
  }

  SECTION("two distant changes: two rectangles, not their bounding box") {
    painter.Fill(Rect{10, 10, 5, 5}, 0xff0000);
    painter.Fill(Rect{900, 600, 5, 5}, 0x00ff00);
    auto frame = Capture(*capturer);
    const Region& region = frame->updated_region();
    CHECK(region.rects().size() == 2);
    CHECK(Covers(region, Rect{10, 10, 5, 5}));
    CHECK(Covers(region, Rect{900, 600, 5, 5}));
    CHECK(region.AreaUpperBound() == 2 * 32 * 32);
  }

  SECTION("a tall change: one rectangle through several tile rows") {
    painter.Fill(Rect{40, 50, 3, 300}, 0x0000ff);
    auto frame = Capture(*capturer);
    REQUIRE(frame->updated_region().rects().size() == 1);
    CHECK(frame->updated_region().rects()[0] == Rect{32, 32, 32, 320});
  }

  SECTION("every pixel changed: the region covers the whole screen") {
    std::vector<uint8_t> other = Pattern(kScreen, 12);
    painter.PutBgra(Rect::FromSize(kScreen), other.data(), kScreen.width * 4);
    auto frame = Capture(*capturer);
    CHECK(Covers(frame->updated_region(), Rect::FromSize(kScreen)));
    CHECK(frame->updated_region().AreaUpperBound() == int64_t{kScreen.width} * kScreen.height);
    CHECK(MismatchedPixels(*frame, other) == 0);
  }
}

TEST_CASE("X11 capturer's region covers every changed pixel over many changes", "[display]") {
  Xvfb xvfb(kScreen.width, kScreen.height);
  X11Painter painter(xvfb.display());
  auto capturer = MakeCapturer(xvfb.display());
  auto previous = Capture(*capturer);
  uint32_t state = 99;
  for (int round = 0; round < 20; ++round) {
    // A few random rectangles per round, some of them one pixel.
    for (int i = 0; i < 3; ++i) {
      state = state * 1664525u + 1013904223u;
      const int x = static_cast<int>(state % kScreen.width);
      const int y = static_cast<int>((state >> 10) % kScreen.height);
      const int w = std::min(1 + static_cast<int>((state >> 20) % 80), kScreen.width - x);
      const int h = std::min(1 + static_cast<int>((state >> 4) % 60), kScreen.height - y);
      painter.Fill(Rect{x, y, w, h}, state & 0xffffff);
    }
    auto frame = Capture(*capturer);
    // Compare with the server's own view.
    const std::vector<uint8_t> truth = painter.ReadRootBgra();
    REQUIRE(MismatchedPixels(*frame, truth) == 0);
    int uncovered = 0;
    for (int y = 0; y < kScreen.height; ++y) {
      for (int x = 0; x < kScreen.width; ++x) {
        if (std::memcmp(frame->PixelAt(x, y), previous->PixelAt(x, y), 4) != 0 &&
            !Covers(frame->updated_region(), Rect{x, y, 1, 1})) {
          ++uncovered;
        }
      }
    }
    INFO("round " << round);
    REQUIRE(uncovered == 0);
    CHECK(frame->updated_region().AreaUpperBound() < int64_t{kScreen.width} * kScreen.height);
    previous = std::move(frame);
  }
}

TEST_CASE("X11 capturer in whole-screen mode always reports the whole screen", "[display]") {
  Xvfb xvfb(320, 240);
  auto capturer =
      MakeCapturer(xvfb.display(), X11ImageTransfer::kSharedMemory, X11DamageMode::kWholeScreen);
  for (int i = 0; i < 3; ++i) {
    auto frame = Capture(*capturer);
    REQUIRE(frame->updated_region().rects().size() == 1);
    CHECK(frame->updated_region().rects()[0] == Rect{0, 0, 320, 240});
  }
}

TEST_CASE("X11 capturer returns kPermanentError, not exit, when the server dies", "[display]") {
  Xvfb xvfb(320, 240);
  auto capturer = MakeCapturer(xvfb.display());
  Capture(*capturer);
  REQUIRE(kill(xvfb.pid(), SIGTERM) == 0);  // Reaped by ~Xvfb.

  CaptureResult result = CaptureResult::kSuccess;
  std::unique_ptr<Frame> frame;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (result != CaptureResult::kPermanentError && std::chrono::steady_clock::now() < deadline) {
    frame.reset();
    result = capturer->CaptureFrame(&frame);
    if (result != CaptureResult::kPermanentError) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  CHECK(result == CaptureResult::kPermanentError);
  CHECK_FALSE(frame);  // Left untouched on failure.
  CHECK(capturer->CaptureFrame(&frame) == CaptureResult::kPermanentError);
  capturer.reset();  // Closing the dead connection must not end the process either.
}

// An Xvfb at depth 16 (5-6-5 pixels), which the capturer must refuse. tests/support's Xvfb
// only does depth 24, so this starts one itself; it is stopped by its PID.
class Xvfb16 {
 public:
  Xvfb16() {
    testing::Subprocess::Options options;
    options.argv = {"Xvfb",       "-displayfd", "1",   "-screen", "0",
                    "320x240x16", "-nolisten",  "tcp", "-noreset"};
    options.stdout_path = dir_.File("display");
    options.stderr_path = "/dev/null";
    process_ = std::make_unique<testing::Subprocess>(options);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string number = testing::ReadFileToString(dir_.File("display"));
      if (number.find('\n') != std::string::npos) {
        display_ = ":" + number.substr(0, number.find('\n'));
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const std::string& display() const { return display_; }  // Empty: did not start.

 private:
  testing::TempDir dir_;
  std::unique_ptr<testing::Subprocess> process_;
  std::string display_;
};

TEST_CASE("X11 capturer refuses a 16-bit screen with kCaptureUnsupported", "[display]") {
  Xvfb16 xvfb;
  REQUIRE_FALSE(xvfb.display().empty());
  auto capturer = CreateX11ScreenCapturer(X11CaptureOptions{xvfb.display()});
  REQUIRE_FALSE(capturer.ok());
  CHECK(capturer.error().code == ErrorCode::kCaptureUnsupported);
  CHECK_THAT(capturer.error().message, Catch::Contains("depth 16"));

  auto info = QueryX11DisplayInfo(xvfb.display());
  REQUIRE(info.ok());
  CHECK(info->depth == 16);
  CHECK(info->bits_per_pixel == 16);
  CHECK_FALSE(info->pixel_format_supported);
}

TEST_CASE("QueryX11DisplayInfo describes a 24-bit Xvfb", "[display]") {
  Xvfb xvfb(640, 480);
  auto info = QueryX11DisplayInfo(xvfb.display());
  REQUIRE(info.ok());
  CHECK(info->display_name == xvfb.display());
  CHECK(info->screen_size == Size{640, 480});
  CHECK(info->depth == 24);
  CHECK(info->bits_per_pixel == 32);
  CHECK(info->lsb_first);
  CHECK(info->red_mask == 0xff0000);
  CHECK(info->green_mask == 0x00ff00);
  CHECK(info->blue_mask == 0x0000ff);
  CHECK(info->pixel_format_supported);
  CHECK(info->has_mit_shm);
  CHECK_FALSE(info->vendor.empty());
  // RandR: Xvfb has one monitor covering the screen.
  REQUIRE(info->monitors.size() == 1);
  CHECK(info->monitors[0].bounds == Rect::FromSize(info->screen_size));
  CHECK_FALSE(info->monitors[0].name.empty());
}

}  // namespace
}  // namespace lifeline
