// X11 input injection through the XTest extension.
//
// Keys: a keysym is pressed on the first keycode that carries it (any level: the viewer
// sends its modifier keys as separate events, so Shift+a arrives as Shift_L then 'A' or
// 'a'). A keysym the keymap lacks (an exotic character, a key the host keyboard has not)
// is mapped onto a spare keycode (one with no keysyms) for as long as it is needed;
// XChangeKeyboardMapping sends MappingNotify so clients re-read the map. The original
// mapping of spare keycodes is restored when the injector is destroyed.
//
// Text: each character is typed at the level where it sits (level 1 with Shift pressed
// around it), or on a spare keycode with the character on both levels. Shift keys the
// viewer holds (from earlier KeyEvents) are released around text and pressed again, so
// typed text comes out exactly as sent.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/utf8.h"
#include "capture/input_injector.h"
#include "capture/x11/x_error_trap.h"

// X11 headers last: they define macros (Status, Bool, None, Success) that break others.
#include <X11/XKBlib.h>
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#undef Status

namespace lifeline {
namespace {

constexpr unsigned long kNoDelay = 0;

// X keysym for a Unicode code point (Latin-1 maps directly; the rest use the
// 0x01000000 Unicode range that Xlib understands).
KeySym KeysymForCodePoint(char32_t cp) {
  if (cp == '\n' || cp == '\r')
    return XK_Return;
  if (cp == '\t')
    return XK_Tab;
  if (cp == '\b')
    return XK_BackSpace;
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff))
    return static_cast<KeySym>(cp);
  return static_cast<KeySym>(0x01000000 | cp);
}

class X11InputInjector final : public InputInjector {
 public:
  static Expected<std::unique_ptr<InputInjector>> Create(const std::string& display_name) {
    Display* display = XOpenDisplay(display_name.empty() ? nullptr : display_name.c_str());
    if (display == nullptr) {
      return Error{
          ErrorCode::kDisplayUnavailable,
          "cannot open X display '" +
              std::string(XDisplayName(display_name.empty() ? nullptr : display_name.c_str())) +
              "' to inject input"};
    }
    int event_base = 0;
    int error_base = 0;
    int major = 0;
    int minor = 0;
    if (!XTestQueryExtension(display, &event_base, &error_base, &major, &minor)) {
      XCloseDisplay(display);
      return Error{ErrorCode::kInputUnavailable,
                   "the X server has no XTest extension: remote control is not possible"};
    }
    // Injected events must not be blocked by another client's grab of the server.
    XTestGrabControl(display, True);
    return std::unique_ptr<InputInjector>(new X11InputInjector(display));
  }

  ~X11InputInjector() override {
    if (!lost_) {
      // Nothing stays pressed after the session, and spare keycodes get their old map.
      for (const auto& [keysym, keycode] : held_keys_)
        XTestFakeKeyEvent(display_, keycode, False, kNoDelay);
      for (int button : held_buttons_)
        XTestFakeButtonEvent(display_, static_cast<unsigned>(button), False, kNoDelay);
      for (KeyCode code : borrowed_keycodes_) {
        KeySym none[2] = {NoSymbol, NoSymbol};
        XChangeKeyboardMapping(display_, code, 2, none, 1);
      }
      XSync(display_, False);
    }
    x11::UnregisterConnectionLossFlag(display_, &lost_);
    XCloseDisplay(display_);
  }

  Status MovePointer(int x, int y) override {
    XTestFakeMotionEvent(display_, -1, x, y, kNoDelay);
    return Flush();
  }

  Status Button(MouseButton button, bool pressed) override {
    const int number = static_cast<int>(button);
    XTestFakeButtonEvent(display_, static_cast<unsigned>(number), pressed ? True : False, kNoDelay);
    if (pressed)
      held_buttons_.insert(number);
    else
      held_buttons_.erase(number);
    return Flush();
  }

  Status Wheel(int dx, int dy) override {
    auto click = [&](unsigned button, int count) {
      for (int i = 0; i < std::min(count, 20); ++i) {  // A hostile count stays cheap.
        XTestFakeButtonEvent(display_, button, True, kNoDelay);
        XTestFakeButtonEvent(display_, button, False, kNoDelay);
      }
    };
    click(dy > 0 ? 4 : 5, std::abs(dy));
    click(dx > 0 ? 7 : 6, std::abs(dx));
    return Flush();
  }

  Status Key(uint32_t keysym, bool pressed) override {
    if (!pressed) {
      auto it = held_keys_.find(keysym);
      if (it == held_keys_.end())
        return Status::Ok();  // Never pressed here (or released by a pause): nothing to do.
      XTestFakeKeyEvent(display_, it->second, False, kNoDelay);
      held_keys_.erase(it);
      return Flush();
    }
    if (held_keys_.count(keysym))
      return Flush();  // Already down (a repeat): the X server repeats held keys itself.
    auto location = FindKeycode(static_cast<KeySym>(keysym));
    if (!location)
      return Status::Ok();  // No spare keycode left: drop this key (logged once).
    XTestFakeKeyEvent(display_, location->keycode, True, kNoDelay);
    held_keys_[keysym] = location->keycode;
    return Flush();
  }

  Status Text(std::string_view utf8) override {
    std::u32string code_points;
    if (!DecodeUtf8(utf8, &code_points))
      return Status(ErrorCode::kInvalidArgument, "text to type is not valid UTF-8");
    // Shift keys the viewer holds would change what comes out: lift them meanwhile.
    std::vector<KeyCode> lifted;
    for (const auto& [keysym, keycode] : held_keys_) {
      if (keysym == XK_Shift_L || keysym == XK_Shift_R) {
        XTestFakeKeyEvent(display_, keycode, False, kNoDelay);
        lifted.push_back(keycode);
      }
    }
    const KeyCode shift = XKeysymToKeycode(display_, XK_Shift_L);
    for (char32_t cp : code_points) {
      auto location = FindKeycode(KeysymForCodePoint(cp));
      if (!location)
        continue;
      const bool need_shift = location->level == 1 && shift != 0;
      if (need_shift)
        XTestFakeKeyEvent(display_, shift, True, kNoDelay);
      XTestFakeKeyEvent(display_, location->keycode, True, kNoDelay);
      XTestFakeKeyEvent(display_, location->keycode, False, kNoDelay);
      if (need_shift)
        XTestFakeKeyEvent(display_, shift, False, kNoDelay);
      if (location->borrowed) {
        // The next borrowed character may reuse this keycode: let the events out first.
        XSync(display_, False);
      }
    }
    for (KeyCode code : lifted)
      XTestFakeKeyEvent(display_, code, True, kNoDelay);
    return Flush();
  }

  Size screen_size() const override {
    return Size{DisplayWidth(display_, DefaultScreen(display_)),
                DisplayHeight(display_, DefaultScreen(display_))};
  }

 private:
  struct KeyLocation {
    KeyCode keycode = 0;
    int level = 0;  // 0: plain, 1: with Shift.
    bool borrowed = false;
  };

  explicit X11InputInjector(Display* display) : display_(display) {
    x11::RegisterConnectionLossFlag(display_, &lost_);
    XDisplayKeycodes(display_, &min_keycode_, &max_keycode_);
  }

  Status Flush() {
    XFlush(display_);
    if (lost_) {
      return Status(ErrorCode::kInputInjectionFailed,
                    "the connection to the X server was lost while injecting input");
    }
    return Status::Ok();
  }

  std::optional<KeyLocation> FindKeycode(KeySym keysym) {
    if (keysym == NoSymbol)
      return std::nullopt;
    const KeyCode code = XKeysymToKeycode(display_, keysym);
    if (code != 0) {
      for (int level = 0; level < 2; ++level) {
        if (XkbKeycodeToKeysym(display_, code, 0, level) == keysym)
          return KeyLocation{code, level, false};
      }
      return KeyLocation{code, 0, false};  // Deeper level (AltGr): the plain key.
    }
    return Borrow(keysym);
  }

  // Maps `keysym` onto a spare keycode, reusing the spare keycodes round-robin.
  std::optional<KeyLocation> Borrow(KeySym keysym) {
    if (spare_keycodes_.empty() && !spares_searched_) {
      spares_searched_ = true;
      int per_code = 0;
      const int count = max_keycode_ - min_keycode_ + 1;
      KeySym* map =
          XGetKeyboardMapping(display_, static_cast<KeyCode>(min_keycode_), count, &per_code);
      if (map != nullptr) {
        for (int i = 0; i < count; ++i) {
          bool empty = true;
          for (int j = 0; j < per_code; ++j)
            empty = empty && map[i * per_code + j] == NoSymbol;
          if (empty)
            spare_keycodes_.push_back(static_cast<KeyCode>(min_keycode_ + i));
        }
        XFree(map);
      }
      // Keep a few at the top (least likely to be on a real keyboard).
      if (spare_keycodes_.size() > 4)
        spare_keycodes_.erase(spare_keycodes_.begin(), spare_keycodes_.end() - 4);
      if (spare_keycodes_.empty())
        log::Warning("input: the keymap has no spare keycode; keys it lacks are dropped");
    }
    if (spare_keycodes_.empty())
      return std::nullopt;
    // A keycode still held down (a borrowed key being pressed) is not reused.
    for (size_t tries = 0; tries < spare_keycodes_.size(); ++tries) {
      const KeyCode code = spare_keycodes_[next_spare_ % spare_keycodes_.size()];
      ++next_spare_;
      bool held = false;
      for (const auto& entry : held_keys_)
        held = held || entry.second == code;
      if (held)
        continue;
      KeySym syms[2] = {keysym, keysym};
      XChangeKeyboardMapping(display_, code, 2, syms, 1);
      XSync(display_, False);
      borrowed_keycodes_.insert(code);
      return KeyLocation{code, 0, true};
    }
    return std::nullopt;
  }

  Display* const display_;
  bool lost_ = false;
  int min_keycode_ = 8;
  int max_keycode_ = 255;
  std::map<uint32_t, KeyCode> held_keys_;  // keysym -> keycode pressed for it.
  std::set<int> held_buttons_;
  std::vector<KeyCode> spare_keycodes_;
  bool spares_searched_ = false;
  size_t next_spare_ = 0;
  std::set<KeyCode> borrowed_keycodes_;
};

}  // namespace

Expected<std::unique_ptr<InputInjector>> CreateX11InputInjector(const std::string& display) {
  return X11InputInjector::Create(display);
}

}  // namespace lifeline
