#include "app/core/remote_control_viewer.h"

#include <algorithm>
#include <vector>

#include "app/core/keysyms.h"
#include "base/time.h"
#include "base/utf8.h"
#include "net/framing.h"

namespace lifeline {

std::optional<SpecialCombo> ParseSpecialCombo(std::string_view name) {
  if (name == "ctrl-alt-del")
    return SpecialCombo::kCtrlAltDel;
  if (name == "alt-tab")
    return SpecialCombo::kAltTab;
  if (name == "super")
    return SpecialCombo::kSuper;
  if (name == "ctrl-esc")
    return SpecialCombo::kCtrlEscape;
  if (name == "print")
    return SpecialCombo::kPrintScreen;
  return std::nullopt;
}

std::optional<std::pair<int, int>> MapViewToFrame(int view_x,
                                                  int view_y,
                                                  const Rect& view_rect,
                                                  Size frame,
                                                  bool clamp) {
  if (view_rect.empty() || frame.empty())
    return std::nullopt;
  // Pixel centres: view pixel v covers frame [v * fw / vw, (v + 1) * fw / vw).
  const int64_t rel_x = int64_t{view_x} - view_rect.x;
  const int64_t rel_y = int64_t{view_y} - view_rect.y;
  const bool inside =
      rel_x >= 0 && rel_y >= 0 && rel_x < view_rect.width && rel_y < view_rect.height;
  if (!inside && !clamp)
    return std::nullopt;
  int64_t x = rel_x * frame.width / view_rect.width;
  int64_t y = rel_y * frame.height / view_rect.height;
  x = std::clamp<int64_t>(x, 0, frame.width - 1);
  y = std::clamp<int64_t>(y, 0, frame.height - 1);
  return std::pair<int, int>(static_cast<int>(x), static_cast<int>(y));
}

RemoteControlViewer::RemoteControlViewer(SendFunction send) : send_(std::move(send)) {}

bool RemoteControlViewer::Send(wire::Envelope& message) {
  if (!send_(message))
    return false;
  std::lock_guard lock(mutex_);
  ++events_sent_;
  return true;
}

bool RemoteControlViewer::SendMove(int x, int y) {
  return SendButton(x, y, wire::POINTER_BUTTON_NONE, false);
}

bool RemoteControlViewer::SendButton(int x, int y, wire::PointerButton button, bool pressed) {
  wire::Envelope message;
  wire::PointerEvent* event = message.mutable_pointer_event();
  event->set_x(x);
  event->set_y(y);
  event->set_button(button);
  event->set_pressed(pressed);
  event->set_sent_time_us(MonotonicNowUs());
  return Send(message);
}

bool RemoteControlViewer::SendWheel(int x, int y, int dx, int dy) {
  wire::Envelope message;
  wire::PointerEvent* event = message.mutable_pointer_event();
  event->set_x(x);
  event->set_y(y);
  event->set_wheel_x(dx);
  event->set_wheel_y(dy);
  event->set_sent_time_us(MonotonicNowUs());
  return Send(message);
}

bool RemoteControlViewer::SendKey(uint32_t keysym, bool pressed, uint32_t modifiers) {
  if (keysym == 0)
    return false;
  wire::Envelope message;
  wire::KeyEvent* event = message.mutable_key_event();
  event->set_keysym(keysym);
  event->set_pressed(pressed);
  event->set_modifiers(modifiers);
  event->set_sent_time_us(MonotonicNowUs());
  return Send(message);
}

bool RemoteControlViewer::SendText(std::string_view utf8) {
  if (!IsValidUtf8(utf8))
    return false;
  while (!utf8.empty()) {
    size_t n = std::min(utf8.size(), kMaxTextEventBytes);
    // Back up to a character boundary (never inside a multi-byte sequence).
    while (n < utf8.size() && n > 0 && (static_cast<uint8_t>(utf8[n]) & 0xc0) == 0x80)
      --n;
    wire::Envelope message;
    message.mutable_text_event()->set_text(std::string(utf8.substr(0, n)));
    message.mutable_text_event()->set_sent_time_us(MonotonicNowUs());
    if (!Send(message))
      return false;
    utf8.remove_prefix(n);
  }
  return true;
}

bool RemoteControlViewer::SendCombo(SpecialCombo combo) {
  std::vector<uint32_t> keys;
  switch (combo) {
    case SpecialCombo::kCtrlAltDel:
      keys = {keysym::kControlL, keysym::kAltL, keysym::kDelete};
      break;
    case SpecialCombo::kAltTab:
      keys = {keysym::kAltL, keysym::kTab};
      break;
    case SpecialCombo::kSuper:
      keys = {keysym::kSuperL};
      break;
    case SpecialCombo::kCtrlEscape:
      keys = {keysym::kControlL, keysym::kEscape};
      break;
    case SpecialCombo::kPrintScreen:
      keys = {keysym::kPrint};
      break;
  }
  uint32_t modifiers = 0;
  for (uint32_t key : keys) {
    modifiers |= keysym::ModifierBitOf(key);
    if (!SendKey(key, true, modifiers))
      return false;
  }
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    modifiers &= ~keysym::ModifierBitOf(*it);
    if (!SendKey(*it, false, modifiers))
      return false;
  }
  return true;
}

Status RemoteControlViewer::SendClipboard(std::string_view utf8) {
  if (utf8.size() > kMaxClipboardBytes) {
    return Status(ErrorCode::kClipboardTooLarge,
                  "clipboard text of " + std::to_string(utf8.size()) + " bytes is over the " +
                      std::to_string(kMaxClipboardBytes) + "-byte limit; not sent");
  }
  if (!IsValidUtf8(utf8))
    return Status(ErrorCode::kInvalidArgument, "clipboard text is not valid UTF-8; not sent");
  wire::Envelope message;
  message.mutable_clipboard_text()->set_text(std::string(utf8));
  if (!Send(message))
    return Status(ErrorCode::kConnectionClosed, "the session is not running");
  return Status::Ok();
}

void RemoteControlViewer::OnClipboardFromHost(std::string text) {
  std::function<void()> callback;
  {
    std::lock_guard lock(mutex_);
    clipboard_from_host_ = std::move(text);
    callback = clipboard_callback_;
  }
  if (callback)
    callback();
}

std::optional<std::string> RemoteControlViewer::TakeClipboardFromHost() {
  std::lock_guard lock(mutex_);
  auto text = std::move(clipboard_from_host_);
  clipboard_from_host_.reset();
  return text;
}

void RemoteControlViewer::set_clipboard_callback(std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  clipboard_callback_ = std::move(callback);
}

uint64_t RemoteControlViewer::events_sent() const {
  std::lock_guard lock(mutex_);
  return events_sent_;
}

}  // namespace lifeline
