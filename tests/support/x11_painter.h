// X11Painter: puts known pixels on an X display (for capture tests) and reads the screen
// back. It owns an override-redirect window covering the whole screen, so no window
// manager moves it and what is put into it is exactly what the screen shows.
//
// Failures throw std::runtime_error (test support, like Xvfb). X11 headers stay in the
// .cc file.
//
// Threading: one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/geometry.h"

namespace lifeline::testing {

class X11Painter {
 public:
  // Opens `display`, creates the window, maps it and waits until it is mapped.
  explicit X11Painter(const std::string& display);
  ~X11Painter();
  X11Painter(const X11Painter&) = delete;
  X11Painter& operator=(const X11Painter&) = delete;

  Size screen_size() const;

  // Puts `rect.width` x `rect.height` pixels, B, G, R, A order (alpha ignored), rows
  // `stride_bytes` apart, at `rect` on the screen; returns once the server has drawn them.
  void PutBgra(const Rect& rect, const uint8_t* pixels, int stride_bytes);
  // The same from R, G, B, A pixels.
  void PutRgba(const Rect& rect, const uint8_t* pixels, int stride_bytes);
  // Fills `rect` with one colour, given as 0xRRGGBB.
  void Fill(const Rect& rect, uint32_t rgb);

  // Shows the X cursor-font cursor `font_shape` (XC_crosshair = 34, ...) over the window.
  void SetCursor(unsigned font_shape);
  // Moves the pointer to (x, y) on the screen.
  void WarpPointer(int x, int y);

  // Reads the whole root window with XGetImage: B, G, R, A (alpha 255) per pixel, rows
  // tightly packed (screen_size().width * 4 bytes).
  std::vector<uint8_t> ReadRootBgra();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lifeline::testing
