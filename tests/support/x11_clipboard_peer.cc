#include "tests/support/x11_clipboard_peer.h"

#include <poll.h>

#include <chrono>
#include <stdexcept>

#include <X11/Xatom.h>
#include <X11/Xlib.h>

namespace lifeline::testing {

struct X11ClipboardOwner::State {
  Display* display = nullptr;
  Window window = 0;
  std::string text;
};

X11ClipboardOwner::X11ClipboardOwner(const std::string& display, std::string text)
    : state_(std::make_unique<State>()) {
  state_->display = XOpenDisplay(display.c_str());
  if (state_->display == nullptr)
    throw std::runtime_error("X11ClipboardOwner: cannot open " + display);
  Display* d = state_->display;
  state_->text = std::move(text);
  state_->window = XCreateSimpleWindow(d, DefaultRootWindow(d), 0, 0, 1, 1, 0, 0, 0);
  const Atom clipboard = XInternAtom(d, "CLIPBOARD", False);
  XSetSelectionOwner(d, clipboard, state_->window, CurrentTime);
  XSync(d, False);
  if (XGetSelectionOwner(d, clipboard) != state_->window)
    throw std::runtime_error("X11ClipboardOwner: could not own CLIPBOARD");
  thread_ = std::thread([this] {
    Display* dd = state_->display;
    const Atom utf8 = XInternAtom(dd, "UTF8_STRING", False);
    while (!stop_.load()) {
      if (XPending(dd) == 0) {
        pollfd fd{ConnectionNumber(dd), POLLIN, 0};
        poll(&fd, 1, 20);
        continue;
      }
      XEvent event;
      XNextEvent(dd, &event);
      if (event.type != SelectionRequest)
        continue;
      const XSelectionRequestEvent& request = event.xselectionrequest;
      XSelectionEvent reply{};
      reply.type = SelectionNotify;
      reply.requestor = request.requestor;
      reply.selection = request.selection;
      reply.target = request.target;
      reply.time = request.time;
      reply.property = 0;
      if (request.target == utf8) {
        XChangeProperty(dd, request.requestor, request.property, utf8, 8, PropModeReplace,
                        reinterpret_cast<const unsigned char*>(state_->text.data()),
                        static_cast<int>(state_->text.size()));
        reply.property = request.property;
      }
      XSendEvent(dd, request.requestor, False, 0, reinterpret_cast<XEvent*>(&reply));
      XFlush(dd);
    }
  });
}

X11ClipboardOwner::~X11ClipboardOwner() {
  stop_ = true;
  thread_.join();
  XDestroyWindow(state_->display, state_->window);
  XCloseDisplay(state_->display);
}

std::optional<std::string> ReadX11Clipboard(const std::string& display, int timeout_ms) {
  Display* d = XOpenDisplay(display.c_str());
  if (d == nullptr)
    throw std::runtime_error("ReadX11Clipboard: cannot open " + display);
  const Window window = XCreateSimpleWindow(d, DefaultRootWindow(d), 0, 0, 1, 1, 0, 0, 0);
  const Atom clipboard = XInternAtom(d, "CLIPBOARD", False);
  const Atom utf8 = XInternAtom(d, "UTF8_STRING", False);
  const Atom property = XInternAtom(d, "TEST_PASTE", False);
  XConvertSelection(d, clipboard, utf8, property, window, CurrentTime);
  XFlush(d);
  std::optional<std::string> result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (XPending(d) == 0) {
      pollfd fd{ConnectionNumber(d), POLLIN, 0};
      poll(&fd, 1, 20);
      continue;
    }
    XEvent event;
    XNextEvent(d, &event);
    if (event.type != SelectionNotify)
      continue;
    done = true;
    if (event.xselection.property == 0)
      break;
    Atom type = 0;
    int format = 0;
    unsigned long items = 0;
    unsigned long after = 0;
    unsigned char* data = nullptr;
    if (XGetWindowProperty(d, window, property, 0, 1 << 20, True, AnyPropertyType, &type, &format,
                           &items, &after, &data) == 0 &&
        data != nullptr) {
      result = std::string(reinterpret_cast<const char*>(data), items);
      XFree(data);
    }
  }
  XDestroyWindow(d, window);
  XCloseDisplay(d);
  return result;
}

}  // namespace lifeline::testing
