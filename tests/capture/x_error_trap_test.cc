// ScopedXErrorTrap and the connection-loss flag. This test talks to Xlib directly to
// provoke protocol errors, so it includes X11 headers (last, for their macros).
#include "capture/x11/x_error_trap.h"

#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/xvfb.h"

#include <X11/Xlib.h>

namespace lifeline {
namespace {

// A drawable id no client created.
constexpr Window kBogusWindow = 0x3fffff;

struct DisplayCloser {
  void operator()(Display* display) const { XCloseDisplay(display); }
};
using DisplayPtr = std::unique_ptr<Display, DisplayCloser>;

int g_fallback_errors = 0;
int CountingHandler(Display*, XErrorEvent*) {
  ++g_fallback_errors;
  return 0;
}

void ProvokeBadDrawable(Display* display) {
  Window root = 0;
  int x = 0;
  int y = 0;
  unsigned width = 0;
  unsigned height = 0;
  unsigned border = 0;
  unsigned depth = 0;
  XGetGeometry(display, kBogusWindow, &root, &x, &y, &width, &height, &border, &depth);
}

TEST_CASE("ScopedXErrorTrap turns an X error into an error code", "[display]") {
  testing::Xvfb xvfb(320, 240);
  DisplayPtr display(XOpenDisplay(xvfb.display().c_str()));
  REQUIRE(display);
  XErrorHandler before = XSetErrorHandler(CountingHandler);
  g_fallback_errors = 0;
  {
    x11::ScopedXErrorTrap trap(display.get());
    CHECK(trap.error_code() == 0);
    CHECK(trap.ErrorDescription().empty());
    ProvokeBadDrawable(display.get());
    CHECK(trap.SyncAndGetErrorCode() == BadDrawable);
    CHECK_THAT(trap.ErrorDescription(), Catch::Contains("BadDrawable"));
    // An asynchronous request (no reply) is caught by the sync.
    XMapWindow(display.get(), kBogusWindow);
    CHECK(trap.SyncAndGetErrorCode() == BadDrawable);  // The first error is kept.
  }
  CHECK(g_fallback_errors == 0);
  // The previous handler is back.
  CHECK(XSetErrorHandler(before) == CountingHandler);
}

TEST_CASE("ScopedXErrorTrap passes errors of other displays to the previous handler", "[display]") {
  testing::Xvfb xvfb(320, 240);
  DisplayPtr trapped(XOpenDisplay(xvfb.display().c_str()));
  DisplayPtr other(XOpenDisplay(xvfb.display().c_str()));
  REQUIRE(trapped);
  REQUIRE(other);
  XErrorHandler before = XSetErrorHandler(CountingHandler);
  g_fallback_errors = 0;
  {
    x11::ScopedXErrorTrap trap(trapped.get());
    ProvokeBadDrawable(other.get());
    CHECK(g_fallback_errors == 1);
    CHECK(trap.SyncAndGetErrorCode() == 0);
  }
  // After the trap, errors go to the previous handler again.
  ProvokeBadDrawable(trapped.get());
  CHECK(g_fallback_errors == 2);
  XSetErrorHandler(before);
}

TEST_CASE("A registered display's lost connection sets its flag instead of exiting", "[display]") {
  testing::Xvfb xvfb(320, 240);
  Display* display = XOpenDisplay(xvfb.display().c_str());
  REQUIRE(display != nullptr);
  bool lost = false;
  x11::RegisterConnectionLossFlag(display, &lost);
  XSync(display, False);
  CHECK_FALSE(lost);

  REQUIRE(kill(xvfb.pid(), SIGTERM) == 0);  // Reaped by ~Xvfb.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!lost && std::chrono::steady_clock::now() < deadline) {
    XSync(display, False);
    if (!lost)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(lost);
  XCloseDisplay(display);
  x11::UnregisterConnectionLossFlag(display, &lost);
}

}  // namespace
}  // namespace lifeline
