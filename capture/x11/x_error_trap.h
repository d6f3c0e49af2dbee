// ScopedXErrorTrap: turns X protocol errors on one display into error codes instead of
// Xlib's default handler, which prints and exits the process. Internal to capture/x11/.
//
// Xlib has one error handler per process. The trap installs its own for its lifetime;
// errors on other displays are passed on to the handler that was installed before. Only
// one trap exists at a time in the process (a global mutex serialises them), so keep
// traps short and never nest them.
//
// Threading: create, use and destroy a trap on the thread that uses `display`. Another
// thread that calls XSetErrorHandler while a trap is alive has its handler replaced when
// the trap ends (the same limitation as every Xlib error trap, e.g. WebRTC's).
#pragma once

#include <mutex>
#include <string>

struct _XDisplay;  // Display, from <X11/Xlib.h>, which this header must not include.

namespace lifeline::x11 {

class ScopedXErrorTrap {
 public:
  // `display` must outlive the trap.
  explicit ScopedXErrorTrap(_XDisplay* display);
  // Syncs with the server (so errors of requests made under the trap are caught here), then
  // restores the previous handler.
  ~ScopedXErrorTrap();
  ScopedXErrorTrap(const ScopedXErrorTrap&) = delete;
  ScopedXErrorTrap& operator=(const ScopedXErrorTrap&) = delete;

  // Waits until the server has processed every request sent so far (XSync), then returns
  // the X error code (BadMatch = 8, ...) of the first error caught since construction, or
  // 0 when there was none.
  int SyncAndGetErrorCode();
  // The first error caught so far, without a round trip (errors of requests that have a
  // reply, such as XShmGetImage or XGetGeometry, are already in).
  int error_code() const;
  // "BadMatch (invalid parameter attributes), request 130.4" for logs; "" without error.
  std::string ErrorDescription() const;

 private:
  _XDisplay* display_;
  std::unique_lock<std::mutex> lock_;
};

// Makes a lost connection to `display` (the X server died or was restarted) non-fatal:
// instead of Xlib's default exit(1), `*connection_lost` is set to true and every later
// Xlib call on `display` fails quietly. `connection_lost` must stay valid until
// UnregisterConnectionLossFlag(display) is called, before XCloseDisplay.
//
// Xlib's I/O error handler is process-wide: the first registration installs one that
// handles registered displays and passes every other display to the previous handler.
void RegisterConnectionLossFlag(_XDisplay* display, bool* connection_lost);
// Forgets `display` if it is still registered with `connection_lost` (the address may
// already belong to a newer connection).
void UnregisterConnectionLossFlag(_XDisplay* display, bool* connection_lost);

}  // namespace lifeline::x11
