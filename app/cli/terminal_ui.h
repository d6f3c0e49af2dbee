// The host's user interface in a terminal: the headless twin of the main window.
// Prints the ID and one-time password, asks for consent on the controlling terminal, and
// shows the "session active" line for the whole session.
//
// Threading: HostSessionUi methods are called on the host's main thread.
#pragma once

#include <cstdio>
#include <string>

#include "app/core/session_ui.h"
#include "base/status.h"

namespace lifeline {

class TerminalHostUi final : public HostSessionUi {
 public:
  // Writes to `out` (stdout in the CLI). With `answers_on_stdin`, questions about files
  // are answered by lines on standard input (a scripted host) instead of the terminal.
  explicit TerminalHostUi(FILE* out, bool answers_on_stdin = false)
      : out_(out), answers_on_stdin_(answers_on_stdin) {}

  // Prints "ID: ..." and "Password: ...".
  void ShowCredentials(const std::string& display_id, const std::string& display_password);

  // HostSessionUi implementation.
  // Asks "Allow ...? [y/N]" on /dev/tty; no terminal or no answer in time is a denial.
  ConsentDecision RequestConsent(const PeerInfo& peer, int timeout_ms) override;
  // Prints "Session active: ..." (a terminal line is this front-end's indicator).
  bool ShowSessionIndicator(const PeerInfo& peer) override;
  void HideSessionIndicator() override;
  void OnPasswordChanged(const std::string& display_password, bool after_failures) override;
  // Asks "Accept file NAME (SIZE) from viewer ...? [y/N]" ("r" replaces an existing file)
  // on /dev/tty (or standard input, see the constructor); no answer in time is a decline.
  FileDecision ConfirmFileTransfer(const PeerInfo& peer,
                                   const FileTransferRequest& request,
                                   int timeout_ms) override;

 private:
  FILE* const out_;
  const bool answers_on_stdin_;
};

// Reads a secret without echo from the controlling terminal after printing `prompt`, or
// (when standard input is not a terminal) one line from standard input. Returns empty
// on end of input.
std::string ReadSecretLine(const std::string& prompt);

// Reads the first line of `path`. Error kFileIo naming the file.
Expected<std::string> ReadFirstLine(const std::string& path);

}  // namespace lifeline
