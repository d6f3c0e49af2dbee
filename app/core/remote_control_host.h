// RemoteControlHost: the host session's handling of remote-control messages (pointer,
// keys, text, clipboard). HostSession owns one and forwards these message types to it
// once the session is streaming (after AuthResult); before that HostSession closes the
// connection on them, like on any other early message (security.md requirement 8).
//
// Every input event passes through the InputFilter (input_filter.h): view-only sessions
// and "Pause control" are enforced there. Malformed messages (unknown button, keysym 0,
// invalid UTF-8, text over the limit) are errors that close the connection.
//
// Threading: HandleMessage() runs on the session's network thread. AttachInjector(),
// SetPaused(), SetCapturedArea() and the accessors may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "app/core/input_filter.h"
#include "base/status.h"
#include "capture/input_injector.h"
#include "net/proto/lifeline.pb.h"

namespace lifeline {

// Which way clipboard text may travel in a session (host setting, enforced here).
enum class ClipboardMode {
  kOff,
  kBoth,
  kHostToViewer,
  kViewerToHost,
};

// "off", "both", "host-to-viewer", "viewer-to-host". Error kSettingsInvalid naming the
// value otherwise.
Expected<ClipboardMode> ParseClipboardMode(std::string_view text);

struct RemoteControlOptions {
  ControlMode control_mode = ControlMode::kFull;
  ClipboardMode clipboard_mode = ClipboardMode::kBoth;
};

// Validation of one message, shared by the host and the fuzz target. Error
// kMalformedMessage with the reason.
Status ValidatePointerEvent(const wire::PointerEvent& event);
Status ValidateKeyEvent(const wire::KeyEvent& event);
Status ValidateTextEvent(const wire::TextEvent& event);
Status ValidateClipboardText(const wire::ClipboardText& clipboard);

class RemoteControlHost {
 public:
  explicit RemoteControlHost(RemoteControlOptions options);
  ~RemoteControlHost();

  // True for the message types HandleMessage() takes.
  static bool Handles(const wire::Envelope& message);

  // Installs the desktop's injector (null: none available, input is dropped). Called
  // when streaming starts, never before authentication. A pause set earlier applies.
  void AttachInjector(std::unique_ptr<InputInjector> injector);
  // Releases held keys and buttons and drops the injector (end of session).
  void DetachInjector();

  // Network thread. Ok, or an error that should close the connection
  // (kMalformedMessage, kInputInjectionFailed).
  Status HandleMessage(const wire::Envelope& message);

  // "Pause control": while paused, input is dropped (and held keys were released).
  void SetPaused(bool paused);
  bool paused() const;
  ControlMode control_mode() const { return options_.control_mode; }
  ClipboardMode clipboard_mode() const { return options_.clipboard_mode; }
  // The captured part of the screen (pointer coordinates are relative to it).
  void SetCapturedArea(const Rect& area);
  InputFilterStats input_stats() const;

  // Called on the network thread with clipboard text from the viewer that the setting
  // lets through (HostSession puts it on the desktop's clipboard). Set it before the
  // session streams.
  std::function<void(const std::string&)> on_clipboard_from_viewer;

 private:
  std::shared_ptr<InputFilter> filter() const;

  const RemoteControlOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<InputFilter> filter_;  // Guarded by mutex_.
  bool paused_ = false;                  // Guarded by mutex_.
  Rect area_;                            // Guarded by mutex_.
  InputFilterStats final_stats_;         // Guarded by mutex_: of a detached filter.
};

}  // namespace lifeline
