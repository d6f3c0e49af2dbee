// ScreenPainter: draws on an X display the way applications do, so a benchmark can drive
// the real capture path (DAMAGE events, XShmGetImage) with known content. It owns an
// override-redirect window covering the screen and a shared-memory image as large as the
// screen; pixels put through it reach the server with XShmPutImage, and scrolling uses
// XCopyArea inside the server, as a terminal or browser does.
//
// For lifeline-video-bench and probes, not for the product. Threading: one thread (it owns
// its own connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/geometry.h"
#include "base/status.h"

namespace lifeline {

class ScreenPainter {
 public:
  // Errors: kDisplayUnavailable, kCaptureUnsupported (not 32 bpp LSBFirst, or no MIT-SHM).
  static Expected<std::unique_ptr<ScreenPainter>> Open(const std::string& display);
  virtual ~ScreenPainter() = default;

  virtual Size screen_size() const = 0;
  // Puts `rect` of `bgra` (a whole-screen picture, rows `stride` bytes apart) at the same
  // place on the screen.
  virtual void PutRect(const uint8_t* bgra, int stride, const Rect& rect) = 0;
  // Moves the pixels of `source` by (`dx`, `dy`) on the screen (XCopyArea).
  virtual void CopyArea(const Rect& source, int dx, int dy) = 0;
  // Waits until the server has drawn everything sent so far.
  virtual void Sync() = 0;
};

}  // namespace lifeline
