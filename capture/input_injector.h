// InputInjector: puts keyboard and pointer events into the local desktop, as if the
// person at the machine had typed or clicked. One backend per platform behind a factory
// (X11: XTest, capture/x11/input_injector_x11.cc) and a recording fake for tests.
//
// Coordinates are screen pixels of the captured display (root window on X11); the caller
// maps viewer coordinates and clamps them (app/core/input_filter.h). Keys are X11 keysyms
// (the wire's layout-independent key names); text is UTF-8 and is typed character by
// character, whatever the local keyboard layout.
//
// Errors: kInputInjectionFailed when the display went away or refused an event (the
// session should end: input that silently vanishes is worse than a clear stop).
//
// Threading: an injector is created, used and destroyed on one thread at a time (the
// X11 one owns its own connection to the X server). The fake may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/geometry.h"
#include "base/status.h"

namespace lifeline {

// X11 button numbers: 1 left, 2 middle, 3 right, 8 back, 9 forward (4-7 are the wheel).
enum class MouseButton : uint8_t {
  kLeft = 1,
  kMiddle = 2,
  kRight = 3,
  kBack = 8,
  kForward = 9,
};

class InputInjector {
 public:
  virtual ~InputInjector() = default;

  virtual Status MovePointer(int x, int y) = 0;
  virtual Status Button(MouseButton button, bool pressed) = 0;
  // Wheel steps; positive `dy` is up (away from the user), positive `dx` right.
  virtual Status Wheel(int dx, int dy) = 0;
  virtual Status Key(uint32_t keysym, bool pressed) = 0;
  // Types `utf8` (press and release per character). Invalid UTF-8 is an error
  // (kInvalidArgument) and nothing is typed.
  virtual Status Text(std::string_view utf8) = 0;
  // Size of the screen events go to.
  virtual Size screen_size() const = 0;
};

struct CaptureOptions;

// The injector for the desktop `options` captures (X11: XTest on the same display).
// Errors: as CreateX11InputInjector; kInputUnavailable for sources without a desktop.
Expected<std::unique_ptr<InputInjector>> CreateInputInjector(const CaptureOptions& options);

// The X11 backend (XTest) on `display` (empty: $DISPLAY). Errors: kDisplayUnavailable
// (cannot connect), kInputUnavailable (no XTest extension).
Expected<std::unique_ptr<InputInjector>> CreateX11InputInjector(const std::string& display);

// Records every call; never fails unless `fail_next` is set. For unit tests.
class FakeInputInjector final : public InputInjector {
 public:
  struct Event {
    enum class Type { kMove, kButton, kWheel, kKey, kText } type;
    int x = 0;
    int y = 0;
    int button = 0;
    bool pressed = false;
    int dx = 0;
    int dy = 0;
    uint32_t keysym = 0;
    std::string text;
  };
  explicit FakeInputInjector(Size screen = Size{1920, 1080}) : screen_(screen) {}

  Status MovePointer(int x, int y) override {
    return Record({.type = Event::Type::kMove, .x = x, .y = y});
  }
  Status Button(MouseButton button, bool pressed) override {
    return Record(
        {.type = Event::Type::kButton, .button = static_cast<int>(button), .pressed = pressed});
  }
  Status Wheel(int dx, int dy) override {
    return Record({.type = Event::Type::kWheel, .dx = dx, .dy = dy});
  }
  Status Key(uint32_t keysym, bool pressed) override {
    return Record({.type = Event::Type::kKey, .pressed = pressed, .keysym = keysym});
  }
  Status Text(std::string_view utf8) override {
    return Record({.type = Event::Type::kText, .text = std::string(utf8)});
  }
  Size screen_size() const override { return screen_; }

  std::vector<Event> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  void set_fail_next(bool fail) {
    std::lock_guard lock(mutex_);
    fail_next_ = fail;
  }

 private:
  Status Record(Event event) {
    std::lock_guard lock(mutex_);
    if (fail_next_) {
      fail_next_ = false;
      return Status(ErrorCode::kInputInjectionFailed, "fake injector told to fail");
    }
    events_.push_back(std::move(event));
    return Status::Ok();
  }

  const Size screen_;
  mutable std::mutex mutex_;
  std::vector<Event> events_;
  bool fail_next_ = false;
};

}  // namespace lifeline
