// X11InputProbe: a window on an X display that records the keyboard and pointer events it
// receives (to prove that injected input reaches applications), and the pointer position
// (XQueryPointer). Failures throw std::runtime_error. X11 headers stay in the .cc file.
//
// Threading: one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lifeline::testing {

struct ProbeEvent {
  enum class Type { kKeyPress, kKeyRelease, kButtonPress, kButtonRelease };
  Type type;
  uint32_t keysym = 0;  // Keys: the keysym of the keycode at the event's shift level.
  int button = 0;       // Buttons: X11 button number.
  int x = 0;            // Buttons: root coordinates.
  int y = 0;
};

class X11InputProbe {
 public:
  // Opens `display`, maps a window covering the whole screen and gives it the input focus.
  explicit X11InputProbe(const std::string& display);
  ~X11InputProbe();
  X11InputProbe(const X11InputProbe&) = delete;
  X11InputProbe& operator=(const X11InputProbe&) = delete;

  // Reads events until `count` key/button events arrived or `timeout_ms` passed.
  std::vector<ProbeEvent> Collect(size_t count, int timeout_ms);
  // Waits up to `timeout_ms` for the pointer to be at (x, y); returns where it is.
  std::pair<int, int> WaitForPointer(int x, int y, int timeout_ms);
  std::pair<int, int> PointerPosition();
  // Keysyms of the key presses among `events`, in order.
  static std::vector<uint32_t> PressedKeysyms(const std::vector<ProbeEvent>& events);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lifeline::testing
