#include "capture/x11/screen_painter.h"

#include <sys/ipc.h>
#include <sys/shm.h>

#include <cstring>

// X11 headers last: they define macros (Status, Bool, None) that break others.
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#undef Status

namespace lifeline {
namespace {

class ScreenPainterX11 final : public ScreenPainter {
 public:
  ~ScreenPainterX11() override {
    if (display_ == nullptr)
      return;
    if (attached_)
      XShmDetach(display_, &info_);
    if (image_ != nullptr) {
      image_->data = nullptr;
      XDestroyImage(image_);
    }
    if (info_.shmaddr != nullptr)
      shmdt(info_.shmaddr);
    if (gc_ != nullptr)
      XFreeGC(display_, gc_);
    if (window_ != 0)
      XDestroyWindow(display_, window_);
    XCloseDisplay(display_);
  }

  Status Init(const std::string& name) {
    display_ = XOpenDisplay(name.empty() ? nullptr : name.c_str());
    if (display_ == nullptr)
      return Status(ErrorCode::kDisplayUnavailable, "cannot open X display '" + name + "'");
    const int screen = DefaultScreen(display_);
    size_ = Size{DisplayWidth(display_, screen), DisplayHeight(display_, screen)};
    if (!XShmQueryExtension(display_))
      return Status(ErrorCode::kCaptureUnsupported, "the X display has no MIT-SHM");
    XSetWindowAttributes attributes{};
    attributes.override_redirect = True;
    attributes.background_pixmap = 0;  // None: no server-side clears.
    attributes.event_mask = StructureNotifyMask;
    window_ = XCreateWindow(display_, RootWindow(display_, screen), 0, 0,
                            static_cast<unsigned>(size_.width), static_cast<unsigned>(size_.height),
                            0, CopyFromParent, InputOutput, CopyFromParent,
                            CWOverrideRedirect | CWBackPixmap | CWEventMask, &attributes);
    gc_ = XCreateGC(display_, window_, 0, nullptr);
    XSetGraphicsExposures(display_, gc_, False);
    info_.shmid = -1;
    image_ = XShmCreateImage(display_, DefaultVisual(display_, screen),
                             static_cast<unsigned>(DefaultDepth(display_, screen)), ZPixmap,
                             nullptr, &info_, static_cast<unsigned>(size_.width),
                             static_cast<unsigned>(size_.height));
    if (image_ == nullptr || image_->bits_per_pixel != 32 || image_->byte_order != LSBFirst)
      return Status(ErrorCode::kCaptureUnsupported, "the X display is not 32 bpp LSBFirst");
    info_.shmid = shmget(IPC_PRIVATE, static_cast<size_t>(image_->bytes_per_line) * size_.height,
                         IPC_CREAT | 0600);
    if (info_.shmid < 0)
      return Status(ErrorCode::kCaptureUnsupported, "shmget failed");
    info_.shmaddr = static_cast<char*>(shmat(info_.shmid, nullptr, 0));
    shmctl(info_.shmid, IPC_RMID, nullptr);
    if (info_.shmaddr == reinterpret_cast<char*>(-1)) {
      info_.shmaddr = nullptr;
      return Status(ErrorCode::kCaptureUnsupported, "shmat failed");
    }
    image_->data = info_.shmaddr;
    info_.readOnly = False;
    attached_ = XShmAttach(display_, &info_) != 0;
    XMapRaised(display_, window_);
    XEvent event;
    do {
      XWindowEvent(display_, window_, StructureNotifyMask, &event);
    } while (event.type != MapNotify);
    XSync(display_, False);
    if (!attached_)
      return Status(ErrorCode::kCaptureUnsupported, "XShmAttach failed");
    return Status::Ok();
  }

  Size screen_size() const override { return size_; }

  void PutRect(const uint8_t* bgra, int stride, const Rect& rect) override {
    const Rect r = rect.Intersect(Rect::FromSize(size_));
    if (r.empty())
      return;
    for (int y = r.y; y < r.bottom(); ++y) {
      std::memcpy(image_->data + static_cast<ptrdiff_t>(y) * image_->bytes_per_line + r.x * 4,
                  bgra + static_cast<ptrdiff_t>(y) * stride + r.x * 4,
                  static_cast<size_t>(r.width) * 4);
    }
    XShmPutImage(display_, window_, gc_, image_, r.x, r.y, r.x, r.y, static_cast<unsigned>(r.width),
                 static_cast<unsigned>(r.height), False);
  }

  void CopyArea(const Rect& source, int dx, int dy) override {
    XCopyArea(display_, window_, window_, gc_, source.x, source.y,
              static_cast<unsigned>(source.width), static_cast<unsigned>(source.height),
              source.x + dx, source.y + dy);
  }

  // The shared image is rewritten by the next PutRect: wait for the server each time.
  void Sync() override { XSync(display_, False); }

 private:
  Display* display_ = nullptr;
  Window window_ = 0;
  GC gc_ = nullptr;
  XShmSegmentInfo info_{};
  XImage* image_ = nullptr;
  bool attached_ = false;
  Size size_;
};

}  // namespace

Expected<std::unique_ptr<ScreenPainter>> ScreenPainter::Open(const std::string& display) {
  auto painter = std::make_unique<ScreenPainterX11>();
  if (Status status = painter->Init(display); !status.ok())
    return status.error();
  return std::unique_ptr<ScreenPainter>(std::move(painter));
}

}  // namespace lifeline
