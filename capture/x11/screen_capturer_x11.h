// The X11 screen capturer: reads the root window of an X display with MIT-SHM
// (XShmGetImage), or with plain XGetImage where shared memory is unavailable.
//
// Supported pixel format: depth 24 or 32, 32 bits per pixel, LSBFirst, masks r=ff0000
// g=00ff00 b=0000ff (every common X server, Xvfb included), which is Frame's B, G, R, A
// byte order; the fourth byte is set to 255. Other formats are refused at creation.
//
// Updated region: the first frame and the first after a screen size change carry the
// whole screen. With X11DamageMode::kXDamage (the default where the server has DAMAGE and
// XFIXES) the server tells us what was drawn: WaitForChange() sleeps in poll() on the X
// connection until a DamageNotify arrives, CaptureFrame() reads only the rows the damage
// spans, and inside the damaged rectangles compares tiles of kX11DiffTilePx pixels with
// the last picture (X servers report bounding boxes, and redraws of identical pixels),
// so the frame carries exactly the changed tiles. With kCompareTiles every capture reads
// the whole screen and compares all tiles; kWholeScreen reports the whole screen.
//
// Size changes: the root window geometry is queried before every capture (one round trip,
// about 5 us locally, against about 0.8 ms for XShmGetImage at 1080p) and again when a
// read fails; a new size re-allocates the buffers, and the next frame delivered has the
// new size and carries its whole area.
//
// Errors from CaptureFrame: kTemporaryError when the server refused a read (typically a
// resize in progress: X errors are trapped, never fatal); kPermanentError when the
// connection to the server was lost (the server exited; the process does not exit) or
// reads kept failing for kX11MaxConsecutiveFailures captures.
//
// This header includes no X11 header; X11 types stay inside capture/x11/*.cc.
//
// Threading: the capturer is created, used and destroyed on one thread (it owns its own
// connection to the X server). The free functions may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/geometry.h"
#include "base/status.h"
#include "capture/screen_capturer.h"

namespace lifeline {

inline constexpr int kX11DiffTilePx = 32;
inline constexpr int kX11MaxConsecutiveFailures = 100;

// How pixels travel from the X server.
enum class X11ImageTransfer {
  // XShmGetImage into a shared-memory segment (about 1 ms per 1080p frame). Falls back to
  // kGetImage, with a warning in the log, when MIT-SHM is missing or unusable (a remote
  // display, no System V shared memory).
  kSharedMemory,
  // XGetImage through the socket (about 15x slower). For tests and odd servers.
  kGetImage,
};

// How the updated region is computed.
enum class X11DamageMode {
  // DAMAGE events drive capture (event_driven() is true); tiles are compared inside the
  // damaged area only. Falls back to kCompareTiles, with a warning in the log, when the
  // server lacks DAMAGE or XFIXES.
  kXDamage,
  kCompareTiles,  // Changed tiles only (costs one compare and one copy per frame).
  kWholeScreen,   // Always the whole screen.
};

struct X11CaptureOptions {
  std::string display;  // Empty: $DISPLAY.
  X11ImageTransfer transfer = X11ImageTransfer::kSharedMemory;
  X11DamageMode damage_mode = X11DamageMode::kXDamage;
};

// Opens the display and prepares capture. name() of the result is "x11-shm" or
// "x11-getimage" (after a fallback, too). Errors: kDisplayUnavailable (cannot connect; the
// message names the display), kCaptureUnsupported (pixel format), kCaptureFailed (the
// root window could not be queried).
Expected<std::unique_ptr<ScreenCapturer>> CreateX11ScreenCapturer(const X11CaptureOptions& options);

// Ok when a connection to `display` (empty: $DISPLAY) can be opened; closes it again.
// Otherwise kDisplayUnavailable with a sentence for a person naming the display.
Status CheckX11DisplayAvailable(const std::string& display);

// One monitor as RandR reports it (XRRGetMonitors).
struct X11Monitor {
  std::string name;  // e.g. "HDMI-1", "screen" on Xvfb.
  Rect bounds;       // In root-window pixels.
  bool primary = false;
};

// What a support person needs to know about a display (for lifeline-capture-probe).
struct X11DisplayInfo {
  std::string display_name;  // As resolved, e.g. ":0".
  std::string vendor;        // ServerVendor, e.g. "The X.Org Foundation".
  int vendor_release = 0;
  Size screen_size;  // Root window of the default screen.
  int screen_count = 0;
  int depth = 0;           // Of the root window.
  int bits_per_pixel = 0;  // Of ZPixmap images at that depth.
  bool lsb_first = false;  // Image byte order.
  uint64_t red_mask = 0;
  uint64_t green_mask = 0;
  uint64_t blue_mask = 0;
  bool pixel_format_supported = false;  // Whether CreateX11ScreenCapturer accepts it.
  bool has_mit_shm = false;
  int mit_shm_major = 0;
  int mit_shm_minor = 0;
  std::vector<X11Monitor> monitors;  // Empty without RandR 1.5.
};

// Errors: kDisplayUnavailable as for CheckX11DisplayAvailable.
Expected<X11DisplayInfo> QueryX11DisplayInfo(const std::string& display);

}  // namespace lifeline
