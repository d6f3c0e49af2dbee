#include "app/viewer_sdl/sdl_input.h"

#include <algorithm>

#include "app/core/keysyms.h"
#include "base/log.h"

namespace lifeline {
namespace {

wire::PointerButton ButtonFromSdl(uint8_t button) {
  switch (button) {
    case SDL_BUTTON_LEFT:
      return wire::POINTER_BUTTON_LEFT;
    case SDL_BUTTON_MIDDLE:
      return wire::POINTER_BUTTON_MIDDLE;
    case SDL_BUTTON_RIGHT:
      return wire::POINTER_BUTTON_RIGHT;
    case SDL_BUTTON_X1:
      return wire::POINTER_BUTTON_BACK;
    case SDL_BUTTON_X2:
      return wire::POINTER_BUTTON_FORWARD;
    default:
      return wire::POINTER_BUTTON_NONE;
  }
}

}  // namespace

uint32_t KeysymFromSdl(SDL_Keycode key) {
  switch (key) {
    case SDLK_RETURN:
    case SDLK_KP_ENTER:
      return keysym::kReturn;
    case SDLK_ESCAPE:
      return keysym::kEscape;
    case SDLK_BACKSPACE:
      return keysym::kBackSpace;
    case SDLK_TAB:
      return keysym::kTab;
    case SDLK_DELETE:
      return keysym::kDelete;
    case SDLK_INSERT:
      return keysym::kInsert;
    case SDLK_HOME:
      return keysym::kHome;
    case SDLK_END:
      return keysym::kEnd;
    case SDLK_PAGEUP:
      return keysym::kPageUp;
    case SDLK_PAGEDOWN:
      return keysym::kPageDown;
    case SDLK_LEFT:
      return keysym::kLeft;
    case SDLK_RIGHT:
      return keysym::kRight;
    case SDLK_UP:
      return keysym::kUp;
    case SDLK_DOWN:
      return keysym::kDown;
    case SDLK_LSHIFT:
      return keysym::kShiftL;
    case SDLK_RSHIFT:
      return keysym::kShiftR;
    case SDLK_LCTRL:
      return keysym::kControlL;
    case SDLK_RCTRL:
      return keysym::kControlR;
    case SDLK_LALT:
      return keysym::kAltL;
    case SDLK_LGUI:
      return keysym::kSuperL;
    case SDLK_RGUI:
      return keysym::kSuperR;
    case SDLK_CAPSLOCK:
      return keysym::kCapsLock;
    case SDLK_APPLICATION:
      return keysym::kMenu;
    case SDLK_PRINTSCREEN:
      return keysym::kPrint;
    default:
      break;
  }
  if (key >= SDLK_F1 && key <= SDLK_F12)
    return keysym::kF1 + static_cast<uint32_t>(key - SDLK_F1);
  if (key >= 0x20 && key < 0x7f)
    return static_cast<uint32_t>(key);
  if (key >= 0xa0 && key <= 0xff)
    return static_cast<uint32_t>(key);
  if (key > 0xff && key < 0x110000 && !(key & SDLK_SCANCODE_MASK))
    return 0x01000000u | static_cast<uint32_t>(key);
  return 0;
}

uint32_t SdlInputForwarder::Modifiers() const {
  const SDL_Keymod mod = SDL_GetModState();
  uint32_t bits = 0;
  if (mod & KMOD_SHIFT)
    bits |= wire::KEY_MODIFIER_SHIFT;
  if (mod & KMOD_CTRL)
    bits |= wire::KEY_MODIFIER_CONTROL;
  if (mod & KMOD_LALT)
    bits |= wire::KEY_MODIFIER_ALT;
  if (mod & KMOD_GUI)
    bits |= wire::KEY_MODIFIER_SUPER;
  return bits;
}

void SdlInputForwarder::ReleaseAll() {
  for (const auto& [key, sym] : pressed_)
    control_->SendKey(sym, false, 0);
  pressed_.clear();
}

void SdlInputForwarder::PollClipboard() {
  if (auto text = control_->TakeClipboardFromHost()) {
    last_from_host_ = *text;
    SDL_SetClipboardText(text->c_str());
  }
}

bool SdlInputForwarder::Handle(const SDL_Event& event, Size frame) {
  switch (event.type) {
    case SDL_CLIPBOARDUPDATE: {
      char* text = SDL_GetClipboardText();
      if (text != nullptr && *text != '\0' && last_from_host_ != text) {
        if (Status st = control_->SendClipboard(text); !st.ok())
          log::Info("viewer: clipboard not sent: {}", st.ToString());
      }
      SDL_free(text);
      return true;
    }
    case SDL_MOUSEMOTION: {
      if (frame.empty())
        return true;
      const int x = std::clamp(event.motion.x, 0, frame.width - 1);
      const int y = std::clamp(event.motion.y, 0, frame.height - 1);
      if (x != last_x_ || y != last_y_) {
        last_x_ = x;
        last_y_ = y;
        control_->SendMove(x, y);
      }
      return true;
    }
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP: {
      const wire::PointerButton button = ButtonFromSdl(event.button.button);
      if (frame.empty() || button == wire::POINTER_BUTTON_NONE)
        return true;
      last_x_ = std::clamp(event.button.x, 0, frame.width - 1);
      last_y_ = std::clamp(event.button.y, 0, frame.height - 1);
      control_->SendButton(last_x_, last_y_, button, event.type == SDL_MOUSEBUTTONDOWN);
      return true;
    }
    case SDL_MOUSEWHEEL: {
      if (frame.empty() || last_x_ < 0)
        return true;
      int dx = event.wheel.x;
      int dy = event.wheel.y;
      if (event.wheel.direction == SDL_MOUSEWHEEL_FLIPPED) {
        dx = -dx;
        dy = -dy;
      }
      if (dx != 0 || dy != 0)
        control_->SendWheel(last_x_, last_y_, dx, dy);
      return true;
    }
    case SDL_TEXTINPUT:
      control_->SendText(event.text.text);
      return true;
    case SDL_KEYDOWN: {
      const SDL_Keycode key = event.key.keysym.sym;
      const uint16_t mod = event.key.keysym.mod;
      // Shortcuts for what the local system would take.
      if ((mod & KMOD_CTRL) && (mod & KMOD_LALT) && key == SDLK_END) {
        control_->SendCombo(SpecialCombo::kCtrlAltDel);
        return true;
      }
      if ((mod & KMOD_LALT) && !(mod & KMOD_CTRL) && key == SDLK_PAGEUP) {
        control_->SendCombo(SpecialCombo::kAltTab);
        return true;
      }
      if ((mod & KMOD_LALT) && !(mod & KMOD_CTRL) && key == SDLK_HOME) {
        control_->SendCombo(SpecialCombo::kSuper);
        return true;
      }
      if (event.key.repeat || key == SDLK_RALT || key == SDLK_MODE || key == SDLK_F11)
        return true;  // The host repeats held keys itself; RAlt is AltGr; F11 is ours.
      const uint32_t sym = KeysymFromSdl(key);
      if (sym == 0)
        return true;
      // A printable key without a shortcut modifier arrives as SDL_TEXTINPUT instead.
      const bool printable = sym < 0xff00 || (sym & 0x01000000u);
      const bool shortcut = (mod & (KMOD_CTRL | KMOD_LALT | KMOD_GUI)) != 0;
      if (printable && !shortcut)
        return true;
      pressed_[key] = sym;
      control_->SendKey(sym, true, Modifiers());
      return true;
    }
    case SDL_KEYUP: {
      auto it = pressed_.find(event.key.keysym.sym);
      if (it != pressed_.end()) {
        control_->SendKey(it->second, false, Modifiers());
        pressed_.erase(it);
      }
      return true;
    }
    case SDL_WINDOWEVENT:
      if (event.window.event == SDL_WINDOWEVENT_FOCUS_LOST)
        ReleaseAll();
      return false;  // The window still redraws.
    default:
      return false;
  }
}

}  // namespace lifeline
