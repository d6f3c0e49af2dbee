// WxHostSessionUi: the desktop app's side of the HostSessionUi contract
// (app/core/session_ui.h): the consent prompt, the session overlay (the "session active"
// indicator, bottom-right of the primary monitor, always on top) and the end-of-session
// receipt.
//
// Threading: the HostSessionUi methods are called on the host service thread; each one
// marshals to the wx main thread (RunOnUiThread) and waits with a timeout. A window that
// cannot be shown in time means "no": consent denied, indicator unavailable (the core then
// refuses the session). Everything else runs on the wx main thread.
#pragma once

#include <wx/dialog.h>
#include <wx/frame.h>
#include <wx/timer.h>
#include <wx/weakref.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "app/core/desktop_model.h"
#include "app/core/session_ui.h"

class wxStaticText;
class wxButton;

namespace lifeline {

// The overlay window. Borderless, on top, no taskbar entry; a 1 s timer updates the
// elapsed time, puts it back where it belongs if anything moved it, and raises it (without
// a window manager nothing else keeps it on top).
class SessionOverlay : public wxFrame {
 public:
  SessionOverlay(const PeerInfo& peer,
                 SessionPermissions permissions,
                 std::function<void()> on_disconnect,
                 std::function<void(bool paused)> on_pause);
  // Places it, shows it and raises it; true when it is on screen.
  bool ShowOnScreen();
  wxRect Placement() const;  // Where it must be.
  void PressDisconnect();    // The same path as a click (tests use it).

  static constexpr int kWidth = 340;
  static constexpr int kHeight = 128;
  static constexpr int kMargin = 12;

 private:
  void OnTick(wxTimerEvent&);
  void OnDisconnect(wxCommandEvent&);
  void OnPause(wxCommandEvent&);
  void UpdateTexts();

  std::chrono::steady_clock::time_point start_;
  std::function<void()> on_disconnect_;
  std::function<void(bool)> on_pause_;
  bool paused_ = false;
  wxStaticText* elapsed_ = nullptr;
  wxButton* pause_ = nullptr;
  wxTimer timer_;
};

class WxHostSessionUi : public HostSessionUi {
 public:
  struct Callbacks {
    std::function<void()> disconnect;                                // UI thread.
    std::function<void(bool paused)> pause_control;                  // UI thread.
    std::function<void(const PeerInfo&)> session_shown;              // UI thread.
    std::function<void(const SessionReceipt&)> session_ended;        // UI thread.
    std::function<void(const std::string&, bool)> password_changed;  // UI thread.
  };
  WxHostSessionUi(Callbacks callbacks, SessionPermissions permissions);

  ConsentDecision RequestConsent(const PeerInfo& peer, int timeout_ms) override;
  bool ShowSessionIndicator(const PeerInfo& peer) override;
  void HideSessionIndicator() override;
  void OnPasswordChanged(const std::string& display_password, bool after_failures) override;
  // A dialog with the file's name and size: Accept, Replace (when it exists), Decline;
  // declined when time runs out or the dialog cannot be shown.
  FileDecision ConfirmFileTransfer(const PeerInfo& peer,
                                   const FileTransferRequest& request,
                                   int timeout_ms) override;

  // UI thread: the overlay while a session is shown (tests, screenshots).
  SessionOverlay* overlay() const { return overlay_; }
  // UI thread: answers the open consent prompt as a click would (tests).
  bool AnswerConsentForTesting(bool accept);
  bool consent_open() const { return consent_ != nullptr; }
  // UI thread: answers the open file prompt as a click would; false when none is open.
  bool AnswerFilePromptForTesting(bool accept);
  // UI thread: the overlay is up and the main window was told (tests).
  bool session_shown() const { return overlay_ != nullptr && announced_; }

 private:
  Callbacks callbacks_;
  SessionPermissions permissions_;
  std::vector<std::string> files_accepted_;       // UI thread: for the receipt.
  bool control_paused_ = false;                   // UI thread.
  wxWeakRef<wxDialog> file_dialog_;               // UI thread: the open file prompt.
  std::function<void(bool accept)> file_answer_;  // UI thread: its buttons' action.
  SessionOverlay* overlay_ = nullptr;             // UI thread.
  PeerInfo peer_;                                 // UI thread.
  bool announced_ = false;                        // UI thread: session_shown was called.
  std::chrono::steady_clock::time_point started_;
  class ConsentDialog* consent_ = nullptr;  // UI thread.
};

// Shows the receipt (modeless). UI thread.
void ShowSessionReceipt(wxWindow* parent, const SessionReceipt& receipt);

}  // namespace lifeline
