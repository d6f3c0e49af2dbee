#include "tests/support/x11_painter.h"

#include <cstring>
#include <stdexcept>

// X11 last: its macros (Status, Bool, None) break other headers.
#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace lifeline::testing {

struct X11Painter::State {
  Display* display = nullptr;
  int screen = 0;
  Window window = 0;
  GC gc = nullptr;
  Size size;
};

X11Painter::X11Painter(const std::string& display) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.display = XOpenDisplay(display.c_str());
  if (s.display == nullptr)
    throw std::runtime_error("X11Painter: cannot open " + display);
  s.screen = DefaultScreen(s.display);
  s.size = Size{DisplayWidth(s.display, s.screen), DisplayHeight(s.display, s.screen)};

  XSetWindowAttributes attributes{};
  attributes.override_redirect = True;
  attributes.background_pixel = BlackPixel(s.display, s.screen);
  attributes.event_mask = StructureNotifyMask;
  s.window = XCreateWindow(
      s.display, RootWindow(s.display, s.screen), 0, 0, static_cast<unsigned>(s.size.width),
      static_cast<unsigned>(s.size.height), 0, CopyFromParent, InputOutput, CopyFromParent,
      CWOverrideRedirect | CWBackPixel | CWEventMask, &attributes);
  s.gc = XCreateGC(s.display, s.window, 0, nullptr);
  XMapRaised(s.display, s.window);
  XEvent event;
  do {
    XWindowEvent(s.display, s.window, StructureNotifyMask, &event);
  } while (event.type != MapNotify);
  XSync(s.display, False);
}

X11Painter::~X11Painter() {
  State& s = *state_;
  XFreeGC(s.display, s.gc);
  XDestroyWindow(s.display, s.window);
  XCloseDisplay(s.display);
}

void X11Painter::SetCursor(unsigned font_shape) {
  State& s = *state_;
  XDefineCursor(s.display, s.window, XCreateFontCursor(s.display, font_shape));
  XSync(s.display, False);
}

void X11Painter::WarpPointer(int x, int y) {
  State& s = *state_;
  XWarpPointer(s.display, 0, RootWindow(s.display, s.screen), 0, 0, 0, 0, x, y);
  XSync(s.display, False);
}

Size X11Painter::screen_size() const {
  return state_->size;
}

void X11Painter::PutBgra(const Rect& rect, const uint8_t* pixels, int stride_bytes) {
  State& s = *state_;
  if (rect.empty())
    return;
  // The server's format on every supported display: 32 bpp, LSBFirst, BGRX in memory.
  std::vector<char> data(static_cast<size_t>(rect.width) * rect.height * 4);
  for (int y = 0; y < rect.height; ++y) {
    std::memcpy(&data[static_cast<size_t>(y) * rect.width * 4],
                pixels + static_cast<ptrdiff_t>(y) * stride_bytes,
                static_cast<size_t>(rect.width) * 4);
  }
  XImage* image = XCreateImage(s.display, DefaultVisual(s.display, s.screen),
                               static_cast<unsigned>(DefaultDepth(s.display, s.screen)), ZPixmap, 0,
                               data.data(), static_cast<unsigned>(rect.width),
                               static_cast<unsigned>(rect.height), 32, rect.width * 4);
  if (image == nullptr)
    throw std::runtime_error("X11Painter: XCreateImage failed");
  if (image->bits_per_pixel != 32 || image->byte_order != LSBFirst) {
    image->data = nullptr;
    XDestroyImage(image);
    throw std::runtime_error("X11Painter: the display is not 32 bpp LSBFirst");
  }
  XPutImage(s.display, s.window, s.gc, image, 0, 0, rect.x, rect.y,
            static_cast<unsigned>(rect.width), static_cast<unsigned>(rect.height));
  image->data = nullptr;  // Owned by `data`.
  XDestroyImage(image);
  XSync(s.display, False);
}

void X11Painter::PutRgba(const Rect& rect, const uint8_t* pixels, int stride_bytes) {
  std::vector<uint8_t> bgra(static_cast<size_t>(rect.width) * rect.height * 4);
  for (int y = 0; y < rect.height; ++y) {
    const uint8_t* src = pixels + static_cast<ptrdiff_t>(y) * stride_bytes;
    uint8_t* dst = &bgra[static_cast<size_t>(y) * rect.width * 4];
    for (int x = 0; x < rect.width; ++x) {
      dst[4 * x + 0] = src[4 * x + 2];
      dst[4 * x + 1] = src[4 * x + 1];
      dst[4 * x + 2] = src[4 * x + 0];
      dst[4 * x + 3] = src[4 * x + 3];
    }
  }
  PutBgra(rect, bgra.data(), rect.width * 4);
}

void X11Painter::Fill(const Rect& rect, uint32_t rgb) {
  State& s = *state_;
  XSetForeground(s.display, s.gc, rgb);
  XFillRectangle(s.display, s.window, s.gc, rect.x, rect.y, static_cast<unsigned>(rect.width),
                 static_cast<unsigned>(rect.height));
  XSync(s.display, False);
}

std::vector<uint8_t> X11Painter::ReadRootBgra() {
  State& s = *state_;
  XImage* image = XGetImage(s.display, RootWindow(s.display, s.screen), 0, 0,
                            static_cast<unsigned>(s.size.width),
                            static_cast<unsigned>(s.size.height), AllPlanes, ZPixmap);
  if (image == nullptr)
    throw std::runtime_error("X11Painter: XGetImage failed");
  if (image->bits_per_pixel != 32 || image->byte_order != LSBFirst) {
    XDestroyImage(image);
    throw std::runtime_error("X11Painter: the display is not 32 bpp LSBFirst");
  }
  std::vector<uint8_t> out(static_cast<size_t>(s.size.width) * s.size.height * 4);
  for (int y = 0; y < s.size.height; ++y) {
    uint8_t* dst = &out[static_cast<size_t>(y) * s.size.width * 4];
    std::memcpy(dst, image->data + static_cast<ptrdiff_t>(y) * image->bytes_per_line,
                static_cast<size_t>(s.size.width) * 4);
    for (int x = 0; x < s.size.width; ++x)
      dst[4 * x + 3] = 255;
  }
  XDestroyImage(image);
  return out;
}

}  // namespace lifeline::testing
