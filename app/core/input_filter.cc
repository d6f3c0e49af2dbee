#include "app/core/input_filter.h"

#include <algorithm>

#include "app/core/keysyms.h"
#include "base/log.h"

namespace lifeline {

InputFilter::InputFilter(std::unique_ptr<InputInjector> inner, ControlMode mode)
    : mode_(mode), inner_(std::move(inner)) {
  if (inner_)
    area_ = Rect::FromSize(inner_->screen_size());
}

InputFilter::~InputFilter() {
  std::lock_guard lock(mutex_);
  ReleaseAllLocked();
}

void InputFilter::SetPaused(bool paused) {
  std::lock_guard lock(mutex_);
  if (paused == paused_)
    return;
  paused_ = paused;
  if (paused)
    ReleaseAllLocked();
  log::Info("input: remote control {}", paused ? "paused by the host" : "resumed");
}

bool InputFilter::paused() const {
  std::lock_guard lock(mutex_);
  return paused_;
}

bool InputFilter::allowed() const {
  std::lock_guard lock(mutex_);
  return inner_ && mode_ == ControlMode::kFull && !paused_;
}

void InputFilter::SetCapturedArea(const Rect& area) {
  std::lock_guard lock(mutex_);
  area_ = area;
}

InputFilterStats InputFilter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool InputFilter::AllowedLocked() {
  if (!inner_ || mode_ != ControlMode::kFull || paused_) {
    ++stats_.events_blocked;
    return false;
  }
  ++stats_.events_injected;
  return true;
}

void InputFilter::ReleaseAllLocked() {
  if (!inner_)
    return;
  for (uint32_t keysym : held_keys_)
    static_cast<void>(inner_->Key(keysym, false));
  for (int button : held_buttons_)
    static_cast<void>(inner_->Button(static_cast<MouseButton>(button), false));
  held_keys_.clear();
  held_buttons_.clear();
}

Status InputFilter::MovePointer(int x, int y) {
  std::lock_guard lock(mutex_);
  if (!AllowedLocked())
    return Status::Ok();
  if (area_.empty())
    return Status::Ok();
  const int clamped_x = std::clamp(x, 0, area_.width - 1);
  const int clamped_y = std::clamp(y, 0, area_.height - 1);
  return inner_->MovePointer(area_.x + clamped_x, area_.y + clamped_y);
}

Status InputFilter::Button(MouseButton button, bool pressed) {
  std::lock_guard lock(mutex_);
  if (!AllowedLocked())
    return Status::Ok();
  const int number = static_cast<int>(button);
  if (!pressed && !held_buttons_.count(number))
    return Status::Ok();  // Its press was blocked (paused) or never came: nothing to undo.
  if (pressed)
    held_buttons_.insert(number);
  else
    held_buttons_.erase(number);
  return inner_->Button(button, pressed);
}

Status InputFilter::Wheel(int dx, int dy) {
  std::lock_guard lock(mutex_);
  if (!AllowedLocked())
    return Status::Ok();
  return inner_->Wheel(dx, dy);
}

Status InputFilter::Key(uint32_t keysym, bool pressed) {
  std::lock_guard lock(mutex_);
  if (!AllowedLocked())
    return Status::Ok();
  if (!pressed && !held_keys_.count(keysym))
    return Status::Ok();
  if (pressed)
    held_keys_.insert(keysym);
  else
    held_keys_.erase(keysym);
  return inner_->Key(keysym, pressed);
}

Status InputFilter::Text(std::string_view utf8) {
  std::lock_guard lock(mutex_);
  if (!AllowedLocked())
    return Status::Ok();
  return inner_->Text(utf8);
}

Status InputFilter::SyncModifiers(uint32_t modifier_bits) {
  std::lock_guard lock(mutex_);
  if (!inner_ || mode_ != ControlMode::kFull || paused_)
    return Status::Ok();
  for (auto it = held_keys_.begin(); it != held_keys_.end();) {
    const uint32_t bit = keysym::ModifierBitOf(*it);
    if (bit != 0 && (modifier_bits & bit) == 0) {
      if (Status st = inner_->Key(*it, false); !st.ok())
        return st;
      it = held_keys_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

Size InputFilter::screen_size() const {
  std::lock_guard lock(mutex_);
  return Size{area_.width, area_.height};
}

}  // namespace lifeline
