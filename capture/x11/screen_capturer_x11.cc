#include "capture/x11/screen_capturer_x11.h"

#include <poll.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/time.h"
#include "capture/frame.h"
#include "capture/x11/x_error_trap.h"

// X11 headers last: they define macros (Status, Bool, None, Success) that break others.
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
// Xlib's `#define Status int` would turn lifeline::Status into lifeline::int below.
#undef Status

namespace lifeline {
namespace {

constexpr unsigned long kRedMask = 0xff0000;
constexpr unsigned long kGreenMask = 0x00ff00;
constexpr unsigned long kBlueMask = 0x0000ff;

std::string ResolvedDisplayName(const std::string& display) {
  const char* name = XDisplayName(display.empty() ? nullptr : display.c_str());
  return name ? std::string(name) : std::string();
}

Error DisplayUnavailableError(const std::string& display) {
  const std::string name = ResolvedDisplayName(display);
  if (name.empty()) {
    return Error{ErrorCode::kDisplayUnavailable,
                 "cannot open an X display: no display was given and DISPLAY is not set (is "
                 "an X server running?)"};
  }
  return Error{ErrorCode::kDisplayUnavailable,
               fmt::format("cannot open X display '{}' (is an X server running and is DISPLAY "
                           "set?)",
                           name)};
}

// A connection to an X server whose loss does not end the process.
class XConnection {
 public:
  // nullptr when the display cannot be opened.
  static std::unique_ptr<XConnection> Open(const std::string& display) {
    Display* handle = XOpenDisplay(display.empty() ? nullptr : display.c_str());
    if (handle == nullptr)
      return nullptr;
    return std::unique_ptr<XConnection>(new XConnection(handle));
  }
  ~XConnection() {
    XCloseDisplay(display_);
    x11::UnregisterConnectionLossFlag(display_, &lost_);
  }
  XConnection(const XConnection&) = delete;
  XConnection& operator=(const XConnection&) = delete;

  Display* get() const { return display_; }
  // True once the server went away; every later call on get() fails quietly.
  bool lost() const { return lost_; }

 private:
  explicit XConnection(Display* display) : display_(display) {
    x11::RegisterConnectionLossFlag(display_, &lost_);
  }

  Display* const display_;
  bool lost_ = false;
};

struct XImageDeleter {
  void operator()(XImage* image) const { XDestroyImage(image); }
};
using XImagePtr = std::unique_ptr<XImage, XImageDeleter>;

struct PixelFormat {
  int depth = 0;
  int bits_per_pixel = 0;
  bool lsb_first = false;
  unsigned long red_mask = 0;
  unsigned long green_mask = 0;
  unsigned long blue_mask = 0;

  bool supported() const {
    return (depth == 24 || depth == 32) && bits_per_pixel == 32 && lsb_first &&
           red_mask == kRedMask && green_mask == kGreenMask && blue_mask == kBlueMask;
  }
  std::string ToString() const {
    return fmt::format("depth {}, {} bits per pixel, {}, masks r={:x} g={:x} b={:x}", depth,
                       bits_per_pixel, lsb_first ? "LSBFirst" : "MSBFirst", red_mask, green_mask,
                       blue_mask);
  }
};

PixelFormat QueryPixelFormat(Display* display, int screen) {
  PixelFormat format;
  format.depth = DefaultDepth(display, screen);
  format.lsb_first = ImageByteOrder(display) == LSBFirst;
  const Visual* visual = DefaultVisual(display, screen);
  format.red_mask = visual->red_mask;
  format.green_mask = visual->green_mask;
  format.blue_mask = visual->blue_mask;
  int count = 0;
  XPixmapFormatValues* formats = XListPixmapFormats(display, &count);
  for (int i = 0; formats != nullptr && i < count; ++i) {
    if (formats[i].depth == format.depth)
      format.bits_per_pixel = formats[i].bits_per_pixel;
  }
  if (formats != nullptr)
    XFree(formats);
  return format;
}

// An XImage whose pixels live in a System V shared-memory segment that the X server has
// attached too. Frees the image, detaches both sides; the segment is already marked for
// removal once both are attached, so it cannot leak even if the process crashes.
class ShmImage {
 public:
  static std::unique_ptr<ShmImage> Create(Display* display,
                                          Visual* visual,
                                          int depth,
                                          Size size,
                                          std::string* error) {
    std::unique_ptr<ShmImage> shm(new ShmImage(display));
    shm->image_ = XShmCreateImage(display, visual, static_cast<unsigned>(depth), ZPixmap, nullptr,
                                  &shm->info_, static_cast<unsigned>(size.width),
                                  static_cast<unsigned>(size.height));
    if (shm->image_ == nullptr) {
      *error = "XShmCreateImage failed";
      return nullptr;
    }
    const size_t bytes =
        static_cast<size_t>(shm->image_->bytes_per_line) * static_cast<size_t>(size.height);
    shm->info_.shmid = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
    if (shm->info_.shmid < 0) {
      *error = fmt::format("shmget of {} bytes failed: {}", bytes, std::strerror(errno));
      return nullptr;
    }
    void* address = shmat(shm->info_.shmid, nullptr, 0);
    if (address == reinterpret_cast<void*>(-1)) {
      *error = fmt::format("shmat failed: {}", std::strerror(errno));
      return nullptr;
    }
    shm->info_.shmaddr = static_cast<char*>(address);
    shm->image_->data = shm->info_.shmaddr;
    shm->info_.readOnly = False;
    {
      // A remote server (ssh -X) cannot attach our segment: BadAccess, not an exit.
      x11::ScopedXErrorTrap trap(display);
      const bool attached = XShmAttach(display, &shm->info_) != 0;
      const int error_code = trap.SyncAndGetErrorCode();
      if (!attached || error_code != 0) {
        *error = fmt::format("XShmAttach failed ({})", trap.ErrorDescription());
        return nullptr;
      }
      shm->attached_ = true;
    }
    shm->RemoveSegmentId();
    return shm;
  }

  ~ShmImage() {
    if (attached_) {
      XShmDetach(display_, &info_);
      XSync(display_, False);
    }
    if (image_ != nullptr) {
      image_->data = nullptr;  // Not malloc'ed: XDestroyImage must not free it.
      XDestroyImage(image_);
    }
    if (info_.shmaddr != nullptr)
      shmdt(info_.shmaddr);
    RemoveSegmentId();
  }
  ShmImage(const ShmImage&) = delete;
  ShmImage& operator=(const ShmImage&) = delete;

  XImage* image() const { return image_; }

 private:
  explicit ShmImage(Display* display) : display_(display) { info_.shmid = -1; }

  void RemoveSegmentId() {
    if (info_.shmid >= 0)
      shmctl(info_.shmid, IPC_RMID, nullptr);
    info_.shmid = -1;
  }

  Display* const display_;
  XShmSegmentInfo info_{};  // image_->obdata points here: it lives as long as the image.
  XImage* image_ = nullptr;
  bool attached_ = false;
};

// Copies frame->size() pixels of a 32-bpp LSBFirst image into `frame`, alpha set to 255.
void CopyImageToFrame(const uint8_t* data, int bytes_per_line, Frame* frame) {
  // Byte 3 of each pixel in memory, seen as a native 32-bit word.
  constexpr uint32_t kAlphaMask =
      std::endian::native == std::endian::little ? 0xff000000u : 0x000000ffu;
  for (int y = 0; y < frame->height(); ++y) {
    const uint8_t* src = data + static_cast<ptrdiff_t>(y) * bytes_per_line;
    uint8_t* dst = frame->PixelAt(0, y);
    for (int x = 0; x < frame->width(); ++x) {
      uint32_t pixel;
      std::memcpy(&pixel, src + x * Frame::kBytesPerPixel, sizeof(pixel));
      pixel |= kAlphaMask;
      std::memcpy(dst + x * Frame::kBytesPerPixel, &pixel, sizeof(pixel));
    }
  }
}

// Rows of pixels as the server sent them (32 bpp, LSBFirst), starting at screen row
// `first_row`.
struct SourceRows {
  const uint8_t* data = nullptr;
  int stride = 0;
  int first_row = 0;
  const uint8_t* Pixel(int x, int y) const {
    return data + static_cast<ptrdiff_t>(y - first_row) * stride + x * Frame::kBytesPerPixel;
  }
};

// Byte 3 of each pixel in memory, seen as a native 32-bit word.
constexpr uint32_t kAlphaWord =
    std::endian::native == std::endian::little ? 0xff000000u : 0x000000ffu;

// True when any of `pixels` differs between the server's `src` and our `dst` (alpha
// ignored: the server's fourth byte is padding). No early exit, so it vectorises.
bool PixelsDiffer(const uint8_t* src, const uint8_t* dst, int pixels) {
  uint32_t differences = 0;
  for (int i = 0; i < pixels; ++i) {
    uint32_t a;
    uint32_t b;
    std::memcpy(&a, src + i * 4, 4);
    std::memcpy(&b, dst + i * 4, 4);
    differences |= (a | kAlphaWord) ^ b;
  }
  return differences != 0;
}

void CopyPixels(const uint8_t* src, uint8_t* dst, int pixels) {
  for (int i = 0; i < pixels; ++i) {
    uint32_t pixel;
    std::memcpy(&pixel, src + i * 4, 4);
    pixel |= kAlphaWord;
    std::memcpy(dst + i * 4, &pixel, 4);
  }
}

class ScreenCapturerX11 final : public ScreenCapturer {
 public:
  ScreenCapturerX11(std::unique_ptr<XConnection> connection,
                    std::string display_name,
                    const X11CaptureOptions& options)
      : connection_(std::move(connection)),
        display_name_(std::move(display_name)),
        transfer_(options.transfer),
        damage_mode_(options.damage_mode) {}

  ~ScreenCapturerX11() override {
    Display* display = connection_->get();
    if (connection_->lost())
      return;
    if (damage_ != 0)
      XDamageDestroy(display, damage_);
    if (damage_region_ != 0)
      XFixesDestroyRegion(display, damage_region_);
    XSync(display, False);
  }

  Status Init() {
    Display* display = connection_->get();
    const int screen = DefaultScreen(display);
    root_ = RootWindow(display, screen);
    visual_ = DefaultVisual(display, screen);
    depth_ = DefaultDepth(display, screen);
    const PixelFormat format = QueryPixelFormat(display, screen);
    if (!format.supported()) {
      return Status(ErrorCode::kCaptureUnsupported,
                    fmt::format("X display '{}' uses a pixel format the capturer cannot read "
                                "({}); it needs depth 24 or 32 with 32 bits per pixel, "
                                "LSBFirst, masks r=ff0000 g=ff00 b=ff",
                                display_name_, format.ToString()));
    }
    if (transfer_ == X11ImageTransfer::kSharedMemory && !XShmQueryExtension(display)) {
      log::Warning(
          "X display '{}' has no MIT-SHM extension; capturing with XGetImage, "
          "which is much slower",
          display_name_);
      transfer_ = X11ImageTransfer::kGetImage;
    }
    if (damage_mode_ == X11DamageMode::kXDamage)
      InitDamage();
    if (!UpdateGeometry()) {
      return Status(
          ErrorCode::kCaptureFailed,
          fmt::format("cannot read the size of the screen of X display '{}'", display_name_));
    }
    log::Info("capturing X display '{}': {}x{}, {}, {}, {}", display_name_, size_.width,
              size_.height, format.ToString(), name(),
              damage_mode_ == X11DamageMode::kXDamage ? "driven by DAMAGE events"
                                                      : "comparing every frame");
    return Status::Ok();
  }

  // Creates the DAMAGE object on the root window (and asks RandR for screen changes, which
  // wake WaitForChange too); falls back to kCompareTiles without the extensions.
  void InitDamage() {
    Display* display = connection_->get();
    int error_base = 0;
    int fixes_event_base = 0;
    int fixes_error_base = 0;
    if (!XDamageQueryExtension(display, &damage_event_base_, &error_base) ||
        !XFixesQueryExtension(display, &fixes_event_base, &fixes_error_base)) {
      log::Warning(
          "X display '{}' lacks the DAMAGE or XFIXES extension; comparing every frame "
          "instead, which costs CPU while the screen is idle",
          display_name_);
      damage_mode_ = X11DamageMode::kCompareTiles;
      return;
    }
    damage_ = XDamageCreate(display, root_, XDamageReportNonEmpty);
    fixes_event_base_ = fixes_event_base;
    XFixesSelectCursorInput(display, root_, XFixesDisplayCursorNotifyMask);
    damage_region_ = XFixesCreateRegion(display, nullptr, 0);
    int randr_error_base = 0;
    if (XRRQueryExtension(display, &randr_event_base_, &randr_error_base)) {
      has_randr_ = true;
      XRRSelectInput(display, root_, RRScreenChangeNotifyMask);
    }
    XSync(display, False);
  }

  // ScreenCapturer interface.
  bool WaitForChange(int timeout_ms) override {
    if (damage_mode_ != X11DamageMode::kXDamage || connection_->lost())
      return true;
    DrainEvents();
    if (damage_pending_ || whole_area_next_ || connection_->lost())
      return true;
    pollfd fd{};
    fd.fd = ConnectionNumber(connection_->get());
    fd.events = POLLIN;
    if (poll(&fd, 1, std::max(0, timeout_ms)) > 0)
      DrainEvents();
    return damage_pending_ || connection_->lost();
  }

  bool event_driven() const override { return damage_mode_ == X11DamageMode::kXDamage; }

  bool CaptureCursor(CursorState* state) override {
    Display* display = connection_->get();
    if (connection_->lost())
      return false;
    DrainEvents();
    Window root = 0;
    Window child = 0;
    int root_x = 0;
    int root_y = 0;
    int win_x = 0;
    int win_y = 0;
    unsigned mask = 0;
    state->visible =
        XQueryPointer(display, root_, &root, &child, &root_x, &root_y, &win_x, &win_y, &mask) != 0;
    state->x = root_x;
    state->y = root_y;
    state->shape_changed = false;
    // Without XFIXES events (kCompareTiles) the picture is read once.
    if (!cursor_changed_ && cursor_serial_ != 0)
      return true;
    cursor_changed_ = false;
    XFixesCursorImage* image = XFixesGetCursorImage(display);
    if (image == nullptr)
      return true;
    if (image->cursor_serial != cursor_serial_ || cursor_serial_ == 0) {
      cursor_serial_ = image->cursor_serial == 0 ? 1 : image->cursor_serial;
      auto& shape = state->shape;  // Not the type name: X.h defines CursorShape.
      const int width = std::min<int>(image->width, kMaxCursorSidePx);
      const int height = std::min<int>(image->height, kMaxCursorSidePx);
      shape.serial = cursor_serial_;
      shape.size = Size{width, height};
      shape.hotspot_x = std::clamp<int>(image->xhot, 0, std::max(0, width - 1));
      shape.hotspot_y = std::clamp<int>(image->yhot, 0, std::max(0, height - 1));
      shape.rgba.resize(static_cast<size_t>(width) * height * 4);
      for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
          // One premultiplied ARGB pixel per unsigned long (64 bits on LP64).
          const unsigned long argb = image->pixels[static_cast<size_t>(y) * image->width + x];
          const uint32_t a = (argb >> 24) & 0xff;
          auto unpremultiply = [a](uint32_t c) {
            return static_cast<uint8_t>(a == 0 ? 0 : std::min<uint32_t>(255, c * 255 / a));
          };
          uint8_t* out = &shape.rgba[(static_cast<size_t>(y) * width + x) * 4];
          out[0] = unpremultiply((argb >> 16) & 0xff);
          out[1] = unpremultiply((argb >> 8) & 0xff);
          out[2] = unpremultiply(argb & 0xff);
          out[3] = static_cast<uint8_t>(a);
        }
      }
      state->shape_changed = width > 0 && height > 0;
    }
    XFree(image);
    return true;
  }

  CaptureResult CaptureFrame(std::unique_ptr<Frame>* frame) override {
    if (connection_->lost())
      return CaptureResult::kPermanentError;
    if (damage_mode_ == X11DamageMode::kXDamage)
      return CaptureDamaged(frame);
    const int64_t start_us = MonotonicNowUs();
    if (!UpdateGeometry())
      return Fail();

    auto out = std::make_unique<Frame>(size_);
    if (!ReadPixels(out.get())) {
      // Most likely the screen shrank under us and the read was out of bounds.
      UpdateGeometry();
      return Fail();
    }
    const int64_t read_us = MonotonicNowUs();
    ComputeUpdatedRegion(out.get());
    consecutive_failures_ = 0;
    out->set_capture_time_us(read_us);
    out->set_capture_duration_us(MonotonicNowUs() - start_us);
    out->set_sequence(next_sequence_++);
    *frame = std::move(out);
    return CaptureResult::kSuccess;
  }

  Size screen_size() const override { return size_; }

  std::string_view name() const override {
    return transfer_ == X11ImageTransfer::kSharedMemory ? "x11-shm" : "x11-getimage";
  }

 private:
  // Reads queued events: DamageNotify and RRScreenChangeNotify mark a change pending.
  void DrainEvents() {
    Display* display = connection_->get();
    while (!connection_->lost() && XPending(display) > 0) {
      XEvent event;
      XNextEvent(display, &event);
      if (event.type == damage_event_base_ + XDamageNotify) {
        damage_pending_ = true;
      } else if (event.type == fixes_event_base_ + XFixesCursorNotify) {
        cursor_changed_ = true;
      } else if (has_randr_ && event.type == randr_event_base_ + RRScreenChangeNotify) {
        XRRUpdateConfiguration(&event);
        damage_pending_ = true;
      }
    }
  }

  // Takes the damage accumulated since the last call (the server forgets it), clipped to
  // the screen.
  std::vector<Rect> TakeDamage() {
    Display* display = connection_->get();
    std::vector<Rect> rects;
    XDamageSubtract(display, damage_, 0, damage_region_);
    int count = 0;
    XRectangle bounds;
    XRectangle* xrects = XFixesFetchRegionAndBounds(display, damage_region_, &count, &bounds);
    const Rect screen = Rect::FromSize(size_);
    for (int i = 0; xrects != nullptr && i < count; ++i) {
      const Rect rect =
          Rect{xrects[i].x, xrects[i].y, xrects[i].width, xrects[i].height}.Intersect(screen);
      if (!rect.empty())
        rects.push_back(rect);
    }
    if (xrects != nullptr)
      XFree(xrects);
    return rects;
  }

  // Reads screen rows [top, bottom) (whole width) from the server into `*rows`.
  bool ReadRows(int top, int bottom, SourceRows* rows) {
    Display* display = connection_->get();
    x11::ScopedXErrorTrap trap(display);
    if (transfer_ == X11ImageTransfer::kSharedMemory) {
      // Point the image at the band's place in the segment: the server writes rows
      // [top, bottom) where a whole-screen read would put them.
      XImage* image = shm_image_->image();
      char* const base = image->data;
      const int height = image->height;
      image->data = base + static_cast<ptrdiff_t>(top) * image->bytes_per_line;
      image->height = bottom - top;
      const bool ok = XShmGetImage(display, root_, image, 0, top, AllPlanes) != 0;
      image->data = base;
      image->height = height;
      if (!ok || trap.error_code() != 0) {
        log::Debug("XShmGetImage failed on '{}': {}", display_name_, trap.ErrorDescription());
        return false;
      }
      *rows = SourceRows{reinterpret_cast<const uint8_t*>(base), image->bytes_per_line, 0};
      return true;
    }
    band_.reset(XGetImage(display, root_, 0, top, static_cast<unsigned>(size_.width),
                          static_cast<unsigned>(bottom - top), AllPlanes, ZPixmap));
    if (!band_ || trap.error_code() != 0 || band_->bits_per_pixel != 32 ||
        band_->byte_order != LSBFirst || band_->width != size_.width ||
        band_->height != bottom - top) {
      log::Debug("XGetImage failed on '{}': {}", display_name_, trap.ErrorDescription());
      band_.reset();
      return false;
    }
    *rows = SourceRows{reinterpret_cast<const uint8_t*>(band_->data), band_->bytes_per_line, top};
    return true;
  }

  // Compares `rect` tile by tile with the last picture; copies the tiles that differ into
  // it and adds them to `rects`: runs of changed tiles in a tile row become one rectangle,
  // which grows downwards while the rows below repeat the same run.
  void CopyChangedTiles(const SourceRows& rows, const Rect& rect, std::vector<Rect>* rects) {
    const int first_top = rect.y - rect.y % kX11DiffTilePx;
    const int first_left = rect.x - rect.x % kX11DiffTilePx;
    for (int top = first_top; top < rect.bottom(); top += kX11DiffTilePx) {
      Rect run;
      auto flush = [&] {
        if (run.empty())
          return;
        auto above = std::find_if(rects->begin(), rects->end(), [&](const Rect& r) {
          return r.x == run.x && r.width == run.width && r.bottom() == run.y;
        });
        if (above != rects->end()) {
          above->height += run.height;
        } else {
          rects->push_back(run);
        }
        run = Rect{};
      };
      for (int left = first_left; left < rect.right(); left += kX11DiffTilePx) {
        const Rect cell = Rect{left, top, kX11DiffTilePx, kX11DiffTilePx}.Intersect(rect);
        bool differs = false;
        for (int y = cell.y; y < cell.bottom() && !differs; ++y) {
          differs = PixelsDiffer(rows.Pixel(cell.x, y), previous_->PixelAt(cell.x, y), cell.width);
        }
        if (!differs) {
          flush();
          continue;
        }
        for (int y = cell.y; y < cell.bottom(); ++y)
          CopyPixels(rows.Pixel(cell.x, y), previous_->PixelAt(cell.x, y), cell.width);
        run = run.empty() ? cell : run.BoundingUnion(cell);
      }
      flush();
    }
  }

  CaptureResult CaptureDamaged(std::unique_ptr<Frame>* frame) {
    const int64_t start_us = MonotonicNowUs();
    DrainEvents();
    if (!UpdateGeometry())
      return Fail();
    std::vector<Rect> damage = TakeDamage();
    damage_pending_ = false;
    const bool whole = whole_area_next_ || !previous_;
    if (whole)
      damage = {Rect::FromSize(size_)};
    Region region;
    if (!damage.empty()) {
      Rect bounds = damage.front();
      for (const Rect& rect : damage)
        bounds = bounds.BoundingUnion(rect);
      SourceRows rows;
      if (!ReadRows(bounds.y, bounds.bottom(), &rows)) {
        // What was damaged is forgotten by the server: read everything next time.
        UpdateGeometry();
        whole_area_next_ = true;
        damage_pending_ = true;
        return Fail();
      }
      if (whole) {
        previous_ = Frame::CreateUninitialized(size_);
        for (int y = 0; y < size_.height; ++y)
          CopyPixels(rows.Pixel(0, y), previous_->PixelAt(0, y), size_.width);
        region.Add(Rect::FromSize(size_));
        whole_area_next_ = false;
      } else {
        std::vector<Rect> changed;
        for (const Rect& rect : damage)
          CopyChangedTiles(rows, rect, &changed);
        for (const Rect& rect : changed)
          region.Add(rect);
      }
    }
    const int64_t read_us = MonotonicNowUs();
    auto out = previous_->Clone();
    *out->mutable_updated_region() = std::move(region);
    consecutive_failures_ = 0;
    out->set_capture_time_us(read_us);
    out->set_capture_duration_us(MonotonicNowUs() - start_us);
    out->set_sequence(next_sequence_++);
    *frame = std::move(out);
    return CaptureResult::kSuccess;
  }

  // Re-reads the root window size; on a change re-allocates the buffers and makes the
  // next frame whole. False when the query failed.
  bool UpdateGeometry() {
    Window root_return = 0;
    int x = 0;
    int y = 0;
    unsigned width = 0;
    unsigned height = 0;
    unsigned border = 0;
    unsigned depth = 0;
    {
      x11::ScopedXErrorTrap trap(connection_->get());
      if (!XGetGeometry(connection_->get(), root_, &root_return, &x, &y, &width, &height, &border,
                        &depth) ||
          trap.error_code() != 0) {
        return false;
      }
    }
    const Size size{static_cast<int>(width), static_cast<int>(height)};
    if (size == size_)
      return true;
    if (!size_.empty()) {
      log::Info("X display '{}' changed size from {}x{} to {}x{}", display_name_, size_.width,
                size_.height, size.width, size.height);
    }
    size_ = size;
    AllocateBuffers();
    return true;
  }

  void AllocateBuffers() {
    previous_.reset();
    whole_area_next_ = true;
    shm_image_.reset();
    if (transfer_ != X11ImageTransfer::kSharedMemory)
      return;
    std::string error;
    shm_image_ = ShmImage::Create(connection_->get(), visual_, depth_, size_, &error);
    if (!shm_image_) {
      log::Warning(
          "cannot use MIT-SHM on X display '{}' ({}); capturing with XGetImage, "
          "which is much slower",
          display_name_, error);
      transfer_ = X11ImageTransfer::kGetImage;
    }
  }

  bool ReadPixels(Frame* out) {
    Display* display = connection_->get();
    x11::ScopedXErrorTrap trap(display);
    if (transfer_ == X11ImageTransfer::kSharedMemory) {
      XImage* image = shm_image_->image();
      if (!XShmGetImage(display, root_, image, 0, 0, AllPlanes) || trap.error_code() != 0) {
        log::Debug("XShmGetImage failed on '{}': {}", display_name_, trap.ErrorDescription());
        return false;
      }
      CopyImageToFrame(reinterpret_cast<const uint8_t*>(image->data), image->bytes_per_line, out);
      return true;
    }
    XImagePtr image(XGetImage(display, root_, 0, 0, static_cast<unsigned>(size_.width),
                              static_cast<unsigned>(size_.height), AllPlanes, ZPixmap));
    if (!image || trap.error_code() != 0) {
      log::Debug("XGetImage failed on '{}': {}", display_name_, trap.ErrorDescription());
      return false;
    }
    if (image->bits_per_pixel != 32 || image->byte_order != LSBFirst ||
        image->width != size_.width || image->height != size_.height) {
      log::Debug("XGetImage on '{}' returned an unexpected image", display_name_);
      return false;
    }
    CopyImageToFrame(reinterpret_cast<const uint8_t*>(image->data), image->bytes_per_line, out);
    return true;
  }

  void ComputeUpdatedRegion(Frame* frame) {
    Region* region = frame->mutable_updated_region();
    if (damage_mode_ == X11DamageMode::kWholeScreen) {
      region->Add(Rect::FromSize(size_));
      return;
    }
    if (whole_area_next_ || !previous_) {
      region->Add(Rect::FromSize(size_));
      previous_ = frame->Clone();
      whole_area_next_ = false;
      return;
    }
    // Changed tiles, one strip of tiles at a time; runs of changed tiles in a strip become
    // one rectangle, which grows downwards while the strips below repeat the same run.
    std::vector<Rect> rects;
    const int tiles_per_strip = (size_.width + kX11DiffTilePx - 1) / kX11DiffTilePx;
    std::vector<bool> changed(static_cast<size_t>(tiles_per_strip));
    for (int top = 0; top < size_.height; top += kX11DiffTilePx) {
      const int strip_height = std::min(kX11DiffTilePx, size_.height - top);
      for (int tile = 0; tile < tiles_per_strip; ++tile) {
        const int left = tile * kX11DiffTilePx;
        const size_t bytes = static_cast<size_t>(std::min(kX11DiffTilePx, size_.width - left)) *
                             Frame::kBytesPerPixel;
        bool differs = false;
        for (int y = top; y < top + strip_height && !differs; ++y) {
          differs = std::memcmp(frame->PixelAt(left, y), previous_->PixelAt(left, y), bytes) != 0;
        }
        changed[static_cast<size_t>(tile)] = differs;
        if (differs) {
          for (int y = top; y < top + strip_height; ++y) {
            std::memcpy(previous_->PixelAt(left, y), frame->PixelAt(left, y), bytes);
          }
        }
      }
      for (int tile = 0; tile < tiles_per_strip;) {
        if (!changed[static_cast<size_t>(tile)]) {
          ++tile;
          continue;
        }
        const int first = tile;
        while (tile < tiles_per_strip && changed[static_cast<size_t>(tile)])
          ++tile;
        const int left = first * kX11DiffTilePx;
        const Rect run{left, top, std::min(tile * kX11DiffTilePx, size_.width) - left,
                       strip_height};
        auto above = std::find_if(rects.begin(), rects.end(), [&](const Rect& r) {
          return r.x == run.x && r.width == run.width && r.bottom() == top;
        });
        if (above != rects.end()) {
          above->height += strip_height;
        } else {
          rects.push_back(run);
        }
      }
    }
    for (const Rect& rect : rects)
      region->Add(rect);
  }

  CaptureResult Fail() {
    if (connection_->lost())
      return CaptureResult::kPermanentError;
    if (++consecutive_failures_ >= kX11MaxConsecutiveFailures) {
      if (consecutive_failures_ == kX11MaxConsecutiveFailures) {
        log::Error("capturing X display '{}' failed {} times in a row; giving up", display_name_,
                   consecutive_failures_);
      }
      return CaptureResult::kPermanentError;
    }
    return CaptureResult::kTemporaryError;
  }

  // Declared first: destroyed last, after everything that uses the connection.
  const std::unique_ptr<XConnection> connection_;
  const std::string display_name_;
  X11ImageTransfer transfer_;
  X11DamageMode damage_mode_;
  Damage damage_ = 0;  // With kXDamage: the root window's damage object.
  XserverRegion damage_region_ = 0;
  int damage_event_base_ = 0;
  bool has_randr_ = false;
  int randr_event_base_ = 0;
  bool damage_pending_ = true;    // A DamageNotify arrived since the last TakeDamage().
  int fixes_event_base_ = -1000;  // No event type matches before InitDamage().
  bool cursor_changed_ = true;    // A CursorNotify arrived since the last CaptureCursor().
  unsigned long cursor_serial_ = 0;
  XImagePtr band_;  // With kGetImage and kXDamage: the rows last read.
  Window root_ = 0;
  Visual* visual_ = nullptr;
  int depth_ = 0;
  Size size_;
  std::unique_ptr<ShmImage> shm_image_;  // Only with kSharedMemory.
  std::unique_ptr<Frame> previous_;      // Last delivered pixels (not for kWholeScreen).
  bool whole_area_next_ = true;
  uint64_t next_sequence_ = 0;
  int consecutive_failures_ = 0;
};

}  // namespace

Expected<std::unique_ptr<ScreenCapturer>> CreateX11ScreenCapturer(
    const X11CaptureOptions& options) {
  auto connection = XConnection::Open(options.display);
  if (!connection)
    return DisplayUnavailableError(options.display);
  auto capturer = std::make_unique<ScreenCapturerX11>(
      std::move(connection), ResolvedDisplayName(options.display), options);
  Status status = capturer->Init();
  if (!status.ok())
    return status.error();
  return std::unique_ptr<ScreenCapturer>(std::move(capturer));
}

Status CheckX11DisplayAvailable(const std::string& display) {
  if (!XConnection::Open(display))
    return DisplayUnavailableError(display);
  return Status::Ok();
}

Expected<X11DisplayInfo> QueryX11DisplayInfo(const std::string& display) {
  auto connection = XConnection::Open(display);
  if (!connection)
    return DisplayUnavailableError(display);
  Display* handle = connection->get();
  const int screen = DefaultScreen(handle);
  const PixelFormat format = QueryPixelFormat(handle, screen);
  X11DisplayInfo info;
  info.display_name = DisplayString(handle);
  info.vendor = ServerVendor(handle);
  info.vendor_release = VendorRelease(handle);
  info.screen_size = Size{DisplayWidth(handle, screen), DisplayHeight(handle, screen)};
  info.screen_count = ScreenCount(handle);
  info.depth = format.depth;
  info.bits_per_pixel = format.bits_per_pixel;
  info.lsb_first = format.lsb_first;
  info.red_mask = format.red_mask;
  info.green_mask = format.green_mask;
  info.blue_mask = format.blue_mask;
  info.pixel_format_supported = format.supported();
  Bool shared_pixmaps = False;
  info.has_mit_shm =
      XShmQueryVersion(handle, &info.mit_shm_major, &info.mit_shm_minor, &shared_pixmaps) != 0;
  int event_base = 0;
  int error_base = 0;
  if (XRRQueryExtension(handle, &event_base, &error_base)) {
    int count = 0;
    XRRMonitorInfo* monitors = XRRGetMonitors(handle, RootWindow(handle, screen), True, &count);
    for (int i = 0; monitors != nullptr && i < count; ++i) {
      X11Monitor monitor;
      char* name = XGetAtomName(handle, monitors[i].name);
      monitor.name = name != nullptr ? name : "";
      if (name != nullptr)
        XFree(name);
      monitor.bounds = Rect{monitors[i].x, monitors[i].y, monitors[i].width, monitors[i].height};
      monitor.primary = monitors[i].primary != 0;
      info.monitors.push_back(std::move(monitor));
    }
    if (monitors != nullptr)
      XRRFreeMonitors(monitors);
  }
  return info;
}

}  // namespace lifeline
