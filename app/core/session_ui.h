// The contract between the host's session core and whatever shows things to the local
// user (the wx app, or a terminal). The core enforces the rules; the front-end only
// answers.
//
//   - Consent: when required, the core asks RequestConsent() after authentication and
//     before anything is shown to the viewer; no answer within `timeout_ms` is a denial.
//   - Visibility: the core sends no frame until ShowSessionIndicator() returned true, and
//     refuses the session when it returns false (fail closed). The indicator stays until
//     HideSessionIndicator() at the end of the session.
//
// Threading: every method is called on the thread running HostSession::Run (blocking
// calls are fine there; a GUI front-end marshals to its UI thread and waits).
#pragma once

#include <cstdint>
#include <string>

namespace lifeline {

struct PeerInfo {
  std::string device_id;    // As the peer announced it (9 digits).
  std::string fingerprint;  // SHA-256 of the peer's device key, from the TLS certificate.
  std::string address;      // "127.0.0.1:5000".
};

enum class ConsentDecision { kAccepted, kDenied, kTimedOut };

// ---- File transfer confirmation (issue 7; separate from the session contract) ----
// Every file a viewer sends is confirmed by the person at the host (security.md 2.9).
struct FileTransferRequest {
  std::string name;  // Already checked to be one plain, safe file name.
  uint64_t size_bytes = 0;
  bool exists = false;             // A file of that name is already in the receive folder.
  int64_t resume_from_bytes = -1;  // >= 0: continues a transfer cut earlier.
};
enum class FileDecision { kDecline, kAccept, kAcceptReplace };

class HostSessionUi {
 public:
  virtual ~HostSessionUi() = default;

  virtual ConsentDecision RequestConsent(const PeerInfo& peer, int timeout_ms) = 0;
  // True only when the "session active" indicator (viewer ID, disconnect) is visible.
  virtual bool ShowSessionIndicator(const PeerInfo& peer) = 0;
  virtual void HideSessionIndicator() = 0;
  // The one-time password changed (after a session, or after repeated failures, in which
  // case `after_failures` is true and the user should be told why).
  virtual void OnPasswordChanged(const std::string& display_password, bool after_failures) = 0;

  // File transfer (issue 7): may the viewer put `request.name` into the receive folder?
  // kAcceptReplace only when `request.exists` and the person agreed to replace it.
  // No answer within `timeout_ms` is a decline. The default declines every transfer: a
  // front-end that cannot ask accepts nothing (fail closed).
  virtual FileDecision ConfirmFileTransfer(const PeerInfo& /*peer*/,
                                           const FileTransferRequest& /*request*/,
                                           int /*timeout_ms*/) {
    return FileDecision::kDecline;
  }
};

}  // namespace lifeline
