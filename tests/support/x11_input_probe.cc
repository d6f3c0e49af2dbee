#include "tests/support/x11_input_probe.h"

#include <poll.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace lifeline::testing {

struct X11InputProbe::State {
  Display* display = nullptr;
  Window window = 0;
};

X11InputProbe::X11InputProbe(const std::string& display) : state_(std::make_unique<State>()) {
  state_->display = XOpenDisplay(display.c_str());
  if (state_->display == nullptr)
    throw std::runtime_error("X11InputProbe: cannot open display " + display);
  Display* d = state_->display;
  const int screen = DefaultScreen(d);
  XSetWindowAttributes attributes{};
  attributes.override_redirect = True;
  attributes.event_mask =
      KeyPressMask | KeyReleaseMask | ButtonPressMask | ButtonReleaseMask | StructureNotifyMask;
  state_->window = XCreateWindow(d, RootWindow(d, screen), 0, 0, DisplayWidth(d, screen),
                                 DisplayHeight(d, screen), 0, CopyFromParent, InputOutput,
                                 CopyFromParent, CWOverrideRedirect | CWEventMask, &attributes);
  XMapRaised(d, state_->window);
  XEvent event;
  do {
    XWindowEvent(d, state_->window, StructureNotifyMask, &event);
  } while (event.type != MapNotify);
  XSetInputFocus(d, state_->window, RevertToParent, CurrentTime);
  XSync(d, False);
}

X11InputProbe::~X11InputProbe() {
  XDestroyWindow(state_->display, state_->window);
  XCloseDisplay(state_->display);
}

std::vector<ProbeEvent> X11InputProbe::Collect(size_t count, int timeout_ms) {
  Display* d = state_->display;
  std::vector<ProbeEvent> events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
    if (XPending(d) == 0) {
      pollfd fd{ConnectionNumber(d), POLLIN, 0};
      poll(&fd, 1, 20);
      continue;
    }
    XEvent event;
    XNextEvent(d, &event);
    switch (event.type) {
      case MappingNotify:
        XRefreshKeyboardMapping(&event.xmapping);
        break;
      case KeyPress:
      case KeyRelease: {
        ProbeEvent e{event.type == KeyPress ? ProbeEvent::Type::kKeyPress
                                            : ProbeEvent::Type::kKeyRelease};
        // The keysym the application sees: level 1 with Shift held, else level 0.
        const int index = (event.xkey.state & ShiftMask) ? 1 : 0;
        KeySym sym = XLookupKeysym(&event.xkey, index);
        if (sym == NoSymbol && index == 1)
          sym = XLookupKeysym(&event.xkey, 0);
        e.keysym = static_cast<uint32_t>(sym);
        events.push_back(e);
        break;
      }
      case ButtonPress:
      case ButtonRelease: {
        ProbeEvent e{event.type == ButtonPress ? ProbeEvent::Type::kButtonPress
                                               : ProbeEvent::Type::kButtonRelease};
        e.button = static_cast<int>(event.xbutton.button);
        e.x = event.xbutton.x_root;
        e.y = event.xbutton.y_root;
        events.push_back(e);
        break;
      }
      default:
        break;
    }
  }
  return events;
}

std::pair<int, int> X11InputProbe::PointerPosition() {
  Display* d = state_->display;
  Window root = 0;
  Window child = 0;
  int root_x = -1;
  int root_y = -1;
  int win_x = 0;
  int win_y = 0;
  unsigned int mask = 0;
  XQueryPointer(d, DefaultRootWindow(d), &root, &child, &root_x, &root_y, &win_x, &win_y, &mask);
  return {root_x, root_y};
}

std::pair<int, int> X11InputProbe::WaitForPointer(int x, int y, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto position = PointerPosition();
  while (position != std::pair<int, int>(x, y) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    position = PointerPosition();
  }
  return position;
}

std::vector<uint32_t> X11InputProbe::PressedKeysyms(const std::vector<ProbeEvent>& events) {
  std::vector<uint32_t> keysyms;
  for (const ProbeEvent& e : events) {
    if (e.type == ProbeEvent::Type::kKeyPress)
      keysyms.push_back(e.keysym);
  }
  return keysyms;
}

}  // namespace lifeline::testing
