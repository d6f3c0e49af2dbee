#include "capture/x11/x_error_trap.h"

#include <X11/Xlib.h>

#include <atomic>
#include <map>

#include "base/log.h"

namespace lifeline::x11 {
namespace {

// The trap state. g_trap_mutex is held by the one live ScopedXErrorTrap. The handler runs
// on whichever thread reads an error from its connection: for the trapped display that is
// the trapping thread (a Display is used by one thread), so the error fields need no lock;
// the pointers are atomic because handlers for other displays read them too.
std::mutex g_trap_mutex;
std::atomic<Display*> g_trapped_display{nullptr};
std::atomic<XErrorHandler> g_previous_error_handler{nullptr};
int g_error_code = 0;
int g_error_request_code = 0;
int g_error_minor_code = 0;

int TrapErrorHandler(Display* display, XErrorEvent* event) {
  if (display == g_trapped_display.load()) {
    if (g_error_code == 0) {
      g_error_code = event->error_code;
      g_error_request_code = event->request_code;
      g_error_minor_code = event->minor_code;
    }
    return 0;
  }
  XErrorHandler previous = g_previous_error_handler.load();
  return previous ? previous(display, event) : 0;
}

// Displays whose lost connection must not end the process.
std::mutex g_io_mutex;
std::map<Display*, bool*>* g_io_flags = nullptr;  // Guarded by g_io_mutex; never freed.
XIOErrorHandler g_previous_io_handler = nullptr;  // Written once, under std::call_once.

int IoErrorHandler(Display* display) {
  {
    std::lock_guard lock(g_io_mutex);
    if (g_io_flags->count(display) != 0) {
      // Returning lets Xlib run the display's exit handler (ours, which returns), after
      // which every call on this display fails quietly.
      return 0;
    }
  }
  return g_previous_io_handler ? g_previous_io_handler(display) : 0;
}

void ConnectionLost(Display* display, void* user_data) {
  log::Warning("lost the connection to X display '{}'", DisplayString(display));
  *static_cast<bool*>(user_data) = true;
}

}  // namespace

ScopedXErrorTrap::ScopedXErrorTrap(_XDisplay* display) : display_(display), lock_(g_trap_mutex) {
  g_error_code = 0;
  g_error_request_code = 0;
  g_error_minor_code = 0;
  g_trapped_display.store(display);
  g_previous_error_handler.store(XSetErrorHandler(TrapErrorHandler));
}

ScopedXErrorTrap::~ScopedXErrorTrap() {
  XSync(display_, False);
  XSetErrorHandler(g_previous_error_handler.load());
  g_trapped_display.store(nullptr);
}

int ScopedXErrorTrap::SyncAndGetErrorCode() {
  XSync(display_, False);
  return g_error_code;
}

int ScopedXErrorTrap::error_code() const {
  return g_error_code;
}

std::string ScopedXErrorTrap::ErrorDescription() const {
  if (g_error_code == 0)
    return "";
  char text[128] = {};
  XGetErrorText(display_, g_error_code, text, sizeof(text));
  return fmt::format("{}, request {}.{}", text, g_error_request_code, g_error_minor_code);
}

void RegisterConnectionLossFlag(_XDisplay* display, bool* connection_lost) {
  static std::once_flag install_once;
  std::call_once(install_once, [] {
    {
      std::lock_guard lock(g_io_mutex);
      g_io_flags = new std::map<Display*, bool*>();
    }
    g_previous_io_handler = XSetIOErrorHandler(IoErrorHandler);
  });
  {
    std::lock_guard lock(g_io_mutex);
    (*g_io_flags)[display] = connection_lost;
  }
  XSetIOErrorExitHandler(display, ConnectionLost, connection_lost);
}

void UnregisterConnectionLossFlag(_XDisplay* display, bool* connection_lost) {
  std::lock_guard lock(g_io_mutex);
  if (!g_io_flags)
    return;
  auto it = g_io_flags->find(display);
  if (it != g_io_flags->end() && it->second == connection_lost)
    g_io_flags->erase(it);
}

}  // namespace lifeline::x11
