// ScreenCapturer: the interface every capture backend implements, and its factory.
//
// Threading: a capturer is created, used and destroyed on one thread (the host's capture
// thread, owned by HostSession). It never calls back; CaptureFrame returns synchronously.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/geometry.h"
#include "base/status.h"
#include "capture/cursor.h"
#include "capture/frame.h"

namespace lifeline {

// What the caller should do next.
enum class CaptureResult {
  kSuccess,         // `*frame` holds a new frame (its updated region may be empty).
  kTemporaryError,  // Nothing this time; try again on the next tick.
  kPermanentError,  // The capturer is unusable; stop or fall back to another backend.
};

enum class CaptureSource {
  kX11,        // The X server named by `x11_display` (or $DISPLAY), read with XShm.
  kSynthetic,  // Generated content: a moving box and a frame counter; needs no display.
};

struct CaptureOptions {
  CaptureSource source = CaptureSource::kX11;
  std::string x11_display;         // Empty: $DISPLAY.
  Size synthetic_size{1280, 720};  // Only for kSynthetic.
};

class ScreenCapturer {
 public:
  virtual ~ScreenCapturer() = default;

  // Reads the screen into a new frame. On kSuccess `*frame` is set; otherwise it is left
  // untouched. The first successful frame (and the first after a size change) has its
  // whole area in its updated region.
  virtual CaptureResult CaptureFrame(std::unique_ptr<Frame>* frame) = 0;

  // Blocks for up to `timeout_ms` until the screen may have changed, and returns true when
  // a CaptureFrame now would find changes (or a first frame, a size change, a lost
  // connection to report). Event-driven backends (X11 with the DAMAGE extension) sleep in
  // poll() on their connection, so an idle screen costs no capture, conversion or
  // encoding. Backends without change events return true at once and the caller paces
  // CaptureFrame at its frame rate (the default below).
  virtual bool WaitForChange(int timeout_ms) {
    (void)timeout_ms;
    return true;
  }

  // Reads the pointer: its position, and its picture when that changed since the last
  // call (`state->shape_changed`). False when this backend cannot see the cursor.
  virtual bool CaptureCursor(CursorState* state) {
    (void)state;
    return false;
  }

  // True when WaitForChange really waits for changes (the caller then need not poll).
  virtual bool event_driven() const { return false; }

  // Current size of what is captured.
  virtual Size screen_size() const = 0;

  // Short backend name for logs ("x11-shm", "synthetic").
  virtual std::string_view name() const = 0;
};

// Creates and starts the backend `options` asks for. Errors: kDisplayUnavailable (no X
// server at that name), kCaptureUnsupported (extension missing), kCaptureFailed.
Expected<std::unique_ptr<ScreenCapturer>> CreateScreenCapturer(const CaptureOptions& options);

// Parses "x11" / "synthetic". Error kSettingsInvalid naming the value otherwise.
Expected<CaptureSource> ParseCaptureSource(std::string_view text);

// Ok when an X display can be opened at `display` (empty: $DISPLAY); kDisplayUnavailable
// with a sentence for a person otherwise. Used by front-ends before they start a GUI.
Status CheckDisplayAvailable(const std::string& display);

}  // namespace lifeline
