// The X11 CLIPBOARD selection (ICCCM), text only.
//
// One thread with its own connection and an unmapped window:
//   - XFixesSelectSelectionInput reports every new owner of CLIPBOARD; when the owner is
//     not our window, we ask for UTF8_STRING into a property of our window and report the
//     text from SelectionNotify. INCR transfers (very large contents) are skipped: they
//     are over any sensible cap.
//   - SetText() (any thread) hands the text over through a mutex and a wake pipe; the
//     thread takes ownership (XSetSelectionOwner) and answers SelectionRequest for
//     TARGETS, UTF8_STRING, STRING and TEXT by writing the requestor's property.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/log.h"
#include "base/utf8.h"
#include "capture/clipboard.h"
#include "capture/screen_capturer.h"
#include "capture/x11/x_error_trap.h"

// X11 headers last: they define macros (Status, Bool, None, Success) that break others.
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xfixes.h>
#undef Status

namespace lifeline {
namespace {

class X11Clipboard final : public Clipboard {
 public:
  static Expected<std::unique_ptr<Clipboard>> Create(const std::string& display_name,
                                                     size_t max_bytes) {
    Display* display = XOpenDisplay(display_name.empty() ? nullptr : display_name.c_str());
    if (display == nullptr) {
      return Error{ErrorCode::kDisplayUnavailable, "cannot open the X display for the clipboard"};
    }
    int event_base = 0;
    int error_base = 0;
    if (!XFixesQueryExtension(display, &event_base, &error_base)) {
      XCloseDisplay(display);
      return Error{ErrorCode::kClipboardUnavailable,
                   "the X server has no XFixes extension: the clipboard cannot be watched"};
    }
    return std::unique_ptr<Clipboard>(new X11Clipboard(display, event_base, max_bytes));
  }

  ~X11Clipboard() override {
    stop_ = true;
    Wake();
    if (thread_.joinable())
      thread_.join();
    XDestroyWindow(display_, window_);
    x11::UnregisterConnectionLossFlag(display_, &lost_);
    XCloseDisplay(display_);
    close(wake_fds_[0]);
    close(wake_fds_[1]);
  }

  Status Start(ChangedCallback on_changed) override {
    if (thread_.joinable())
      return Status(ErrorCode::kInvalidArgument, "the clipboard was already started");
    if (wake_fds_[0] < 0)
      return Status(ErrorCode::kClipboardUnavailable, "cannot create the clipboard's wake pipe");
    on_changed_ = std::move(on_changed);
    XFixesSelectSelectionInput(display_, window_, clipboard_, XFixesSetSelectionOwnerNotifyMask);
    XFlush(display_);
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  Status SetText(const std::string& utf8) override {
    if (utf8.size() > max_bytes_) {
      return Status(ErrorCode::kClipboardTooLarge,
                    "clipboard text over " + std::to_string(max_bytes_) + " bytes");
    }
    if (!IsValidUtf8(utf8))
      return Status(ErrorCode::kInvalidArgument, "clipboard text is not valid UTF-8");
    {
      std::lock_guard lock(mutex_);
      pending_ = utf8;
    }
    Wake();
    return Status::Ok();
  }

 private:
  X11Clipboard(Display* display, int fixes_event_base, size_t max_bytes)
      : display_(display), fixes_event_base_(fixes_event_base), max_bytes_(max_bytes) {
    x11::RegisterConnectionLossFlag(display_, &lost_);
    window_ = XCreateSimpleWindow(display_, DefaultRootWindow(display_), 0, 0, 1, 1, 0, 0, 0);
    XSelectInput(display_, window_, PropertyChangeMask);
    clipboard_ = XInternAtom(display_, "CLIPBOARD", False);
    utf8_string_ = XInternAtom(display_, "UTF8_STRING", False);
    targets_ = XInternAtom(display_, "TARGETS", False);
    text_ = XInternAtom(display_, "TEXT", False);
    incr_ = XInternAtom(display_, "INCR", False);
    property_ = XInternAtom(display_, "LIFELINE_CLIPBOARD", False);
    if (pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
      wake_fds_[0] = -1;
      wake_fds_[1] = -1;
    }
  }

  void Wake() {
    if (wake_fds_[1] >= 0) {
      const char byte = 1;
      static_cast<void>(write(wake_fds_[1], &byte, 1));
    }
  }

  void Run() {
    while (!stop_.load() && !lost_) {
      TakePending();
      while (XPending(display_) > 0 && !lost_) {
        XEvent event;
        XNextEvent(display_, &event);
        Handle(event);
      }
      XFlush(display_);
      pollfd fds[2] = {{ConnectionNumber(display_), POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
      poll(fds, 2, 200);
      if (fds[1].revents & POLLIN) {
        char buffer[64];
        while (read(wake_fds_[0], buffer, sizeof buffer) > 0) {
        }
      }
    }
    if (lost_)
      log::Warning("clipboard: the connection to the X server was lost");
  }

  void TakePending() {
    std::optional<std::string> text;
    {
      std::lock_guard lock(mutex_);
      text = std::move(pending_);
      pending_.reset();
    }
    if (!text)
      return;
    owned_text_ = std::move(*text);
    XSetSelectionOwner(display_, clipboard_, window_, CurrentTime);
    if (XGetSelectionOwner(display_, clipboard_) != window_)
      log::Warning("clipboard: could not take the CLIPBOARD selection");
    XFlush(display_);
  }

  void Handle(const XEvent& event) {
    if (event.type == fixes_event_base_ + XFixesSelectionNotify) {
      const auto& notify = reinterpret_cast<const XFixesSelectionNotifyEvent&>(event);
      if (notify.selection == clipboard_ && notify.owner != window_ && notify.owner != 0) {
        XConvertSelection(display_, clipboard_, utf8_string_, property_, window_,
                          notify.selection_timestamp);
      }
      return;
    }
    switch (event.type) {
      case SelectionNotify:
        ReadConverted(event.xselection);
        return;
      case SelectionRequest:
        Serve(event.xselectionrequest);
        return;
      default:
        return;
    }
  }

  void ReadConverted(const XSelectionEvent& event) {
    if (event.selection != clipboard_ || event.property == 0)
      return;  // The owner had no text.
    Atom type = 0;
    int format = 0;
    unsigned long items = 0;
    unsigned long bytes_after = 0;
    unsigned char* data = nullptr;
    // Read at most max_bytes (the length is in 32-bit units).
    const long max_units = static_cast<long>(max_bytes_ / 4 + 1);
    const int result =
        XGetWindowProperty(display_, window_, property_, 0, max_units, True, AnyPropertyType, &type,
                           &format, &items, &bytes_after, &data);
    if (result != 0 || data == nullptr) {
      if (data)
        XFree(data);
      return;
    }
    std::string text;
    if (type == incr_) {
      log::Info("clipboard: the copied contents are too large (incremental transfer): not sent");
    } else if (format != 8 || bytes_after > 0 || items > max_bytes_) {
      log::Info("clipboard: the copied text is over {} bytes or not text: not sent", max_bytes_);
    } else {
      text.assign(reinterpret_cast<const char*>(data), items);
    }
    XFree(data);
    XDeleteProperty(display_, window_, property_);
    if (text.empty())
      return;
    if (!IsValidUtf8(text)) {
      log::Info("clipboard: the copied text is not valid UTF-8: not sent");
      return;
    }
    if (on_changed_)
      on_changed_(text);
  }

  void Serve(const XSelectionRequestEvent& request) {
    XSelectionEvent reply{};
    reply.type = SelectionNotify;
    reply.display = request.display;
    reply.requestor = request.requestor;
    reply.selection = request.selection;
    reply.target = request.target;
    reply.time = request.time;
    reply.property = 0;  // Refused unless set below.
    // Obsolete clients leave the property None: use the target as property (ICCCM).
    const Atom property = request.property != 0 ? request.property : request.target;
    if (request.selection == clipboard_ && request.owner == window_) {
      x11::ScopedXErrorTrap trap(display_);  // The requestor's window may be gone.
      if (request.target == targets_) {
        const Atom targets[] = {targets_, utf8_string_, XA_STRING, text_};
        XChangeProperty(display_, request.requestor, property, XA_ATOM, 32, PropModeReplace,
                        reinterpret_cast<const unsigned char*>(targets), 4);
        reply.property = property;
      } else if (request.target == utf8_string_ || request.target == XA_STRING ||
                 request.target == text_) {
        XChangeProperty(display_, request.requestor, property,
                        request.target == XA_STRING ? XA_STRING : utf8_string_, 8, PropModeReplace,
                        reinterpret_cast<const unsigned char*>(owned_text_.data()),
                        static_cast<int>(owned_text_.size()));
        reply.property = property;
      }
      XSendEvent(display_, request.requestor, False, 0, reinterpret_cast<XEvent*>(&reply));
      if (trap.SyncAndGetErrorCode() != 0)
        log::Info("clipboard: a paste request failed: {}", trap.ErrorDescription());
      return;
    }
    XSendEvent(display_, request.requestor, False, 0, reinterpret_cast<XEvent*>(&reply));
  }

  Display* const display_;
  const int fixes_event_base_;
  const size_t max_bytes_;
  bool lost_ = false;
  Window window_ = 0;
  Atom clipboard_ = 0;
  Atom utf8_string_ = 0;
  Atom targets_ = 0;
  Atom text_ = 0;
  Atom incr_ = 0;
  Atom property_ = 0;
  int wake_fds_[2] = {-1, -1};
  ChangedCallback on_changed_;  // Clipboard thread after Start().
  std::string owned_text_;      // Clipboard thread.
  std::mutex mutex_;
  std::optional<std::string> pending_;  // Guarded by mutex_.
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

Expected<std::unique_ptr<Clipboard>> CreateX11Clipboard(const std::string& display,
                                                        size_t max_bytes) {
  return X11Clipboard::Create(display, max_bytes);
}

Expected<std::unique_ptr<Clipboard>> CreateClipboard(const CaptureOptions& options,
                                                     size_t max_bytes) {
  if (options.source == CaptureSource::kX11)
    return CreateX11Clipboard(options.x11_display, max_bytes);
  return Error{ErrorCode::kClipboardUnavailable, "the synthetic capture source has no clipboard"};
}

}  // namespace lifeline
