// The X11 capturer driven by DAMAGE events, against real Xvfb servers: a drawing gives
// one frame whose region is what was drawn; an idle screen gives no frame at all.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "capture/x11/screen_capturer_x11.h"
#include "tests/support/x11_painter.h"
#include "tests/support/xvfb.h"

namespace lifeline {
namespace {

using testing::X11Painter;
using testing::Xvfb;

constexpr Size kScreen{1000, 700};
// Long enough for the server to deliver an event that is coming; short enough for CI.
constexpr int kIdleWaitMs = 300;

std::unique_ptr<ScreenCapturer> MakeDamageCapturer(const std::string& display,
                                                   X11ImageTransfer transfer) {
  X11CaptureOptions options;
  options.display = display;
  options.transfer = transfer;
  options.damage_mode = X11DamageMode::kXDamage;
  auto capturer = CreateX11ScreenCapturer(options);
  INFO((capturer.ok() ? std::string() : capturer.error().ToString()));
  REQUIRE(capturer.ok());
  return std::move(capturer).value();
}

std::unique_ptr<Frame> CaptureAfterChange(ScreenCapturer& capturer) {
  REQUIRE(capturer.WaitForChange(5000));
  std::unique_ptr<Frame> frame;
  REQUIRE(capturer.CaptureFrame(&frame) == CaptureResult::kSuccess);
  REQUIRE(frame);
  return frame;
}

// Captures until the screen is quiet (the painter's window mapping, the first whole
// frame), then checks it stays quiet.
void SettleAndExpectIdle(ScreenCapturer& capturer) {
  for (int i = 0; i < 10 && capturer.WaitForChange(kIdleWaitMs); ++i) {
    std::unique_ptr<Frame> frame;
    REQUIRE(capturer.CaptureFrame(&frame) == CaptureResult::kSuccess);
  }
  CHECK_FALSE(capturer.WaitForChange(kIdleWaitMs));
}

bool PixelIs(const Frame& frame, int x, int y, uint32_t rgb) {
  const uint8_t* p = frame.PixelAt(x, y);
  return p[0] == (rgb & 0xff) && p[1] == ((rgb >> 8) & 0xff) && p[2] == ((rgb >> 16) & 0xff) &&
         p[3] == 255;
}

void CheckDrawGivesOneFrame(X11ImageTransfer transfer) {
  Xvfb xvfb(kScreen.width, kScreen.height);
  X11Painter painter(xvfb.display());
  painter.Fill(Rect::FromSize(kScreen), 0x202020);
  auto capturer = MakeDamageCapturer(xvfb.display(), transfer);
  CHECK(capturer->event_driven());

  auto first = CaptureAfterChange(*capturer);
  CHECK(first->updated_region().BoundingBox() == Rect::FromSize(kScreen));
  CHECK(PixelIs(*first, 500, 500, 0x202020));
  SettleAndExpectIdle(*capturer);

  const Rect change{301, 205, 50, 40};
  painter.Fill(change, 0x123456);
  auto frame = CaptureAfterChange(*capturer);
  // Exactly the drawn rectangle (split at tile borders), nothing else.
  CHECK(frame->updated_region().BoundingBox() == change);
  CHECK(frame->updated_region().AreaUpperBound() == change.area());
  CHECK(PixelIs(*frame, change.x, change.y, 0x123456));
  CHECK(PixelIs(*frame, change.right() - 1, change.bottom() - 1, 0x123456));
  CHECK(PixelIs(*frame, change.x - 1, change.y, 0x202020));
  CHECK(PixelIs(*frame, 10, 690, 0x202020));
  // One drawing, one frame: then nothing.
  CHECK_FALSE(capturer->WaitForChange(kIdleWaitMs));

  // Two distant drawings before one capture: both, not their bounding box.
  painter.Fill(Rect{0, 0, 20, 20}, 0xff0000);
  painter.Fill(Rect{900, 600, 30, 30}, 0x00ff00);
  auto both = CaptureAfterChange(*capturer);
  Region seen;
  for (int i = 0; i < 3 && capturer->WaitForChange(kIdleWaitMs); ++i) {
    // Xvfb may deliver the two as separate events: merge what comes.
    std::unique_ptr<Frame> more;
    REQUIRE(capturer->CaptureFrame(&more) == CaptureResult::kSuccess);
    seen.Add(more->updated_region());
    both = std::move(more);
  }
  seen.Add(both->updated_region());
  CHECK(seen.AreaUpperBound() == 20 * 20 + 30 * 30);
  CHECK(PixelIs(*both, 5, 5, 0xff0000));
  CHECK(PixelIs(*both, 910, 610, 0x00ff00));

  // Drawing the same pixels again is damage without change: an empty region.
  painter.Fill(change, 0x123456);
  auto same = CaptureAfterChange(*capturer);
  CHECK(same->updated_region().empty());
  CHECK(PixelIs(*same, change.x, change.y, 0x123456));
}

TEST_CASE("X11 DAMAGE capture (XShm): a drawing gives one frame with that region", "[display]") {
  CheckDrawGivesOneFrame(X11ImageTransfer::kSharedMemory);
}

TEST_CASE("X11 DAMAGE capture (XGetImage): a drawing gives one frame with that region",
          "[display]") {
  CheckDrawGivesOneFrame(X11ImageTransfer::kGetImage);
}

TEST_CASE("X11 DAMAGE capture: an idle screen wakes nothing for a second", "[display]") {
  Xvfb xvfb(640, 480);
  X11Painter painter(xvfb.display());
  auto capturer = MakeDamageCapturer(xvfb.display(), X11ImageTransfer::kSharedMemory);
  SettleAndExpectIdle(*capturer);
  CHECK_FALSE(capturer->WaitForChange(1000));
  // A change after a long idle is still seen.
  painter.Fill(Rect{600, 440, 40, 40}, 0xabcdef);
  auto frame = CaptureAfterChange(*capturer);
  CHECK(frame->updated_region().BoundingBox() == (Rect{600, 440, 40, 40}));
}

TEST_CASE("X11 capture reports the pointer's position and a new cursor shape", "[display]") {
  Xvfb xvfb(640, 480);
  X11Painter painter(xvfb.display());
  auto capturer = MakeDamageCapturer(xvfb.display(), X11ImageTransfer::kSharedMemory);
  CursorState first;
  REQUIRE(capturer->CaptureCursor(&first));
  REQUIRE(first.shape_changed);  // The first call delivers the picture.
  CHECK_FALSE(first.shape.size.empty());
  CHECK(first.shape.rgba.size() == static_cast<size_t>(first.shape.size.width) *
                                       static_cast<size_t>(first.shape.size.height) * 4);

  painter.WarpPointer(123, 45);
  CursorState moved;
  REQUIRE(capturer->CaptureCursor(&moved));
  CHECK(moved.x == 123);
  CHECK(moved.y == 45);
  CHECK(moved.visible);
  CHECK_FALSE(moved.shape_changed);

  constexpr unsigned kXcCrosshair = 34;
  painter.SetCursor(kXcCrosshair);
  CursorState changed;
  for (int i = 0; i < 200 && !changed.shape_changed; ++i) {
    REQUIRE(capturer->CaptureCursor(&changed));
    if (!changed.shape_changed)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(changed.shape_changed);
  CHECK(changed.shape.serial != first.shape.serial);
  CHECK(changed.shape.hotspot_x < changed.shape.size.width);
  int opaque = 0;
  for (size_t i = 3; i < changed.shape.rgba.size(); i += 4)
    opaque += changed.shape.rgba[i] == 255 ? 1 : 0;
  CHECK(opaque > 0);
  // Unchanged since: no new picture.
  CursorState again;
  REQUIRE(capturer->CaptureCursor(&again));
  CHECK_FALSE(again.shape_changed);
}

}  // namespace
}  // namespace lifeline
