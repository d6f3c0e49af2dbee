// InputFilter: the session core's gate between a viewer's input and the desktop.
//
// An InputInjector decorator (Chromium's InputFilter idea). Every event from the viewer
// goes through it; it
//   - blocks everything in a view-only session (ControlMode::kViewOnly, fixed per session)
//     and while paused (SetPaused(true), the host's "Pause control" button): blocked
//     events are counted and dropped, never queued for later;
//   - releases every key and button the viewer holds when control is paused or the
//     filter is destroyed, so nothing stays stuck on the host;
//   - maps host-frame coordinates to the screen (the captured area's origin) and clamps
//     them into the captured area, so a viewer cannot move the pointer elsewhere.
// A front-end (GUI overlay, terminal) only calls SetPaused(); it never filters by itself.
//
// Threading: every method may be called from any thread; calls are serialised by an
// internal mutex, so the inner injector is used by one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "base/geometry.h"
#include "capture/input_injector.h"

namespace lifeline {

enum class ControlMode {
  kFull,      // The viewer may use keyboard and mouse (unless paused).
  kViewOnly,  // The viewer only watches; all input is blocked for the whole session.
};

struct InputFilterStats {
  uint64_t events_injected = 0;
  uint64_t events_blocked = 0;  // View-only or paused.
};

class InputFilter final : public InputInjector {
 public:
  // `inner` may be null (no injector on this host): then everything is blocked.
  InputFilter(std::unique_ptr<InputInjector> inner, ControlMode mode);
  ~InputFilter() override;  // Releases held keys and buttons.

  // Pausing releases what the viewer holds; events while paused are dropped.
  void SetPaused(bool paused);
  bool paused() const;
  ControlMode mode() const { return mode_; }
  // True when events would currently reach the desktop.
  bool allowed() const;

  // The part of the screen the viewer sees; pointer coordinates are relative to its
  // origin and clamped into it. Default: the inner injector's whole screen.
  void SetCapturedArea(const Rect& area);

  InputFilterStats stats() const;

  // InputInjector implementation. Blocked events return Ok (blocking is policy, not an
  // error); errors come from the inner injector only.
  Status MovePointer(int x, int y) override;
  Status Button(MouseButton button, bool pressed) override;
  Status Wheel(int dx, int dy) override;
  Status Key(uint32_t keysym, bool pressed) override;
  Status Text(std::string_view utf8) override;
  Size screen_size() const override;

  // Releases held modifier keys whose KeyModifier bit (wire) is not in `modifier_bits`:
  // the viewer's window lost a key-up (focus change), the host must not keep it down.
  Status SyncModifiers(uint32_t modifier_bits);

 private:
  bool AllowedLocked();  // Counts a blocked event when false.
  void ReleaseAllLocked();

  const ControlMode mode_;
  mutable std::mutex mutex_;
  std::unique_ptr<InputInjector> inner_;  // Guarded by mutex_.
  bool paused_ = false;                   // Guarded by mutex_.
  Rect area_;                             // Guarded by mutex_.
  std::set<uint32_t> held_keys_;          // Guarded by mutex_.
  std::set<int> held_buttons_;            // Guarded by mutex_.
  InputFilterStats stats_;                // Guarded by mutex_.
};

}  // namespace lifeline
