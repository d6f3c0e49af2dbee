#include "app/core/remote_control_host.h"

#include "app/core/keysyms.h"
#include "base/log.h"
#include "base/utf8.h"
#include "net/framing.h"

namespace lifeline {
namespace {

Status Malformed(std::string message) {
  return Status(ErrorCode::kMalformedMessage, std::move(message));
}

}  // namespace

Expected<ClipboardMode> ParseClipboardMode(std::string_view text) {
  if (text == "off")
    return ClipboardMode::kOff;
  if (text == "both")
    return ClipboardMode::kBoth;
  if (text == "host-to-viewer")
    return ClipboardMode::kHostToViewer;
  if (text == "viewer-to-host")
    return ClipboardMode::kViewerToHost;
  return Error{ErrorCode::kSettingsInvalid,
               "clipboard: '" + std::string(text) +
                   "' is not one of off, both, host-to-viewer, viewer-to-host"};
}

Status ValidatePointerEvent(const wire::PointerEvent& event) {
  switch (event.button()) {
    case wire::POINTER_BUTTON_NONE:
    case wire::POINTER_BUTTON_LEFT:
    case wire::POINTER_BUTTON_MIDDLE:
    case wire::POINTER_BUTTON_RIGHT:
    case wire::POINTER_BUTTON_BACK:
    case wire::POINTER_BUTTON_FORWARD:
      return Status::Ok();
    default:
      return Malformed("PointerEvent with unknown button " + std::to_string(event.button()));
  }
}

Status ValidateKeyEvent(const wire::KeyEvent& event) {
  // X11 keysyms are 29 bits; Unicode keysyms end at 0x0110ffff.
  if (event.keysym() == 0 || event.keysym() > 0x1fffffff)
    return Malformed("KeyEvent with invalid keysym " + std::to_string(event.keysym()));
  return Status::Ok();
}

Status ValidateTextEvent(const wire::TextEvent& event) {
  if (event.text().size() > kMaxTextEventBytes)
    return Malformed("TextEvent longer than " + std::to_string(kMaxTextEventBytes) + " bytes");
  if (!IsValidUtf8(event.text()))
    return Malformed("TextEvent is not valid UTF-8");
  return Status::Ok();
}

Status ValidateClipboardText(const wire::ClipboardText& clipboard) {
  if (clipboard.text().size() > kMaxClipboardBytes) {
    return Status(ErrorCode::kClipboardTooLarge,
                  "clipboard text over " + std::to_string(kMaxClipboardBytes) + " bytes");
  }
  if (!IsValidUtf8(clipboard.text()))
    return Malformed("ClipboardText is not valid UTF-8");
  return Status::Ok();
}

RemoteControlHost::RemoteControlHost(RemoteControlOptions options) : options_(options) {}

RemoteControlHost::~RemoteControlHost() {
  DetachInjector();
}

bool RemoteControlHost::Handles(const wire::Envelope& message) {
  switch (message.payload_case()) {
    case wire::Envelope::kPointerEvent:
    case wire::Envelope::kKeyEvent:
    case wire::Envelope::kTextEvent:
    case wire::Envelope::kClipboardText:
      return true;
    default:
      return false;
  }
}

void RemoteControlHost::AttachInjector(std::unique_ptr<InputInjector> injector) {
  auto filter = std::make_shared<InputFilter>(std::move(injector), options_.control_mode);
  std::lock_guard lock(mutex_);
  filter->SetPaused(paused_);
  if (!area_.empty())
    filter->SetCapturedArea(area_);
  filter_ = std::move(filter);
}

void RemoteControlHost::DetachInjector() {
  std::shared_ptr<InputFilter> filter;
  {
    std::lock_guard lock(mutex_);
    filter = std::move(filter_);
    filter_.reset();
    if (filter)
      final_stats_ = filter->stats();
  }
  // The filter releases held keys when the last reference goes (here, or after an event
  // being handled on the network thread finishes).
}

std::shared_ptr<InputFilter> RemoteControlHost::filter() const {
  std::lock_guard lock(mutex_);
  return filter_;
}

void RemoteControlHost::SetPaused(bool paused) {
  std::shared_ptr<InputFilter> current;
  {
    std::lock_guard lock(mutex_);
    paused_ = paused;
    current = filter_;
  }
  if (current)
    current->SetPaused(paused);
}

bool RemoteControlHost::paused() const {
  std::lock_guard lock(mutex_);
  return paused_;
}

void RemoteControlHost::SetCapturedArea(const Rect& area) {
  std::shared_ptr<InputFilter> current;
  {
    std::lock_guard lock(mutex_);
    if (area == area_)
      return;
    area_ = area;
    current = filter_;
  }
  if (current)
    current->SetCapturedArea(area);
}

InputFilterStats RemoteControlHost::input_stats() const {
  std::lock_guard lock(mutex_);
  return filter_ ? filter_->stats() : final_stats_;
}

Status RemoteControlHost::HandleMessage(const wire::Envelope& message) {
  const std::shared_ptr<InputFilter> input = filter();
  switch (message.payload_case()) {
    case wire::Envelope::kPointerEvent: {
      const wire::PointerEvent& event = message.pointer_event();
      if (Status st = ValidatePointerEvent(event); !st.ok())
        return st;
      if (!input)
        return Status::Ok();
      if (Status st = input->MovePointer(event.x(), event.y()); !st.ok())
        return st;
      if (event.button() != wire::POINTER_BUTTON_NONE) {
        if (Status st = input->Button(static_cast<MouseButton>(event.button()), event.pressed());
            !st.ok()) {
          return st;
        }
      }
      if (event.wheel_x() != 0 || event.wheel_y() != 0)
        return input->Wheel(event.wheel_x(), event.wheel_y());
      return Status::Ok();
    }
    case wire::Envelope::kKeyEvent: {
      const wire::KeyEvent& event = message.key_event();
      if (Status st = ValidateKeyEvent(event); !st.ok())
        return st;
      if (!input)
        return Status::Ok();
      if (keysym::ModifierBitOf(event.keysym()) == 0) {
        if (Status st = input->SyncModifiers(event.modifiers()); !st.ok())
          return st;
      }
      return input->Key(event.keysym(), event.pressed());
    }
    case wire::Envelope::kTextEvent: {
      if (Status st = ValidateTextEvent(message.text_event()); !st.ok())
        return st;
      if (!input)
        return Status::Ok();
      return input->Text(message.text_event().text());
    }
    case wire::Envelope::kClipboardText: {
      if (Status st = ValidateClipboardText(message.clipboard_text()); !st.ok())
        return st;
      if (options_.clipboard_mode != ClipboardMode::kBoth &&
          options_.clipboard_mode != ClipboardMode::kViewerToHost) {
        log::Info("clipboard: text from the viewer ignored (the host's setting forbids it)");
        return Status::Ok();
      }
      if (on_clipboard_from_viewer)
        on_clipboard_from_viewer(message.clipboard_text().text());
      return Status::Ok();
    }
    default:
      return Status(ErrorCode::kInternal, "RemoteControlHost got a message it does not handle");
  }
}

}  // namespace lifeline
