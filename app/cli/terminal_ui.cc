#include "app/cli/terminal_ui.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "base/status.h"
#include "net/tls/device_identity.h"

namespace lifeline {
void TerminalHostUi::ShowCredentials(const std::string& display_id,
                                     const std::string& display_password) {
  std::fprintf(out_, "ID: %s\nPassword: %s\n", display_id.c_str(), display_password.c_str());
  std::fflush(out_);
}

ConsentDecision TerminalHostUi::RequestConsent(const PeerInfo& peer, int timeout_ms) {
  const int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) {
    std::fprintf(out_, "Refused viewer %s: consent is required and there is no terminal to ask.\n",
                 FormatDeviceId(peer.device_id).c_str());
    std::fflush(out_);
    return ConsentDecision::kDenied;
  }
  const std::string question = "\nViewer " + FormatDeviceId(peer.device_id) + " (key " +
                               ShortFingerprint(peer.fingerprint) + ", from " + peer.address +
                               ") wants to see this screen. Allow? [y/N] (" +
                               std::to_string(timeout_ms / 1000) + " s) ";
  if (write(tty, question.data(), question.size()) < 0) {
    close(tty);
    return ConsentDecision::kDenied;
  }
  pollfd pfd{tty, POLLIN, 0};
  ConsentDecision decision = ConsentDecision::kTimedOut;
  if (poll(&pfd, 1, timeout_ms) > 0) {
    char answer[16] = {};
    const ssize_t n = read(tty, answer, sizeof(answer) - 1);
    decision = (n > 0 && (answer[0] == 'y' || answer[0] == 'Y')) ? ConsentDecision::kAccepted
                                                                 : ConsentDecision::kDenied;
  } else {
    const char kNote[] = "\nNo answer: refused.\n";
    if (write(tty, kNote, sizeof(kNote) - 1) < 0) {
      // Nothing more to do; the decision stands.
    }
  }
  close(tty);
  return decision;
}

FileDecision TerminalHostUi::ConfirmFileTransfer(const PeerInfo& peer,
                                                 const FileTransferRequest& request,
                                                 int timeout_ms) {
  std::string question = "\nViewer " + FormatDeviceId(peer.device_id) + " sends the file '" +
                         request.name + "' (" + std::to_string(request.size_bytes) + " bytes" +
                         (request.resume_from_bytes >= 0
                              ? ", continuing at " + std::to_string(request.resume_from_bytes)
                              : std::string()) +
                         "). Accept? [y/N]";
  if (request.exists)
    question += " (a file of that name exists: 'r' replaces it, 'y' keeps it and fails)";
  question += " ";
  const int in = answers_on_stdin_ ? STDIN_FILENO : open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (in < 0) {
    std::fprintf(out_, "Declined file '%s': there is no terminal to ask.\n", request.name.c_str());
    std::fflush(out_);
    return FileDecision::kDecline;
  }
  std::fprintf(out_, "%s", question.c_str());
  std::fflush(out_);
  if (!answers_on_stdin_ && write(in, question.data(), question.size()) < 0) {
    close(in);
    return FileDecision::kDecline;
  }
  FileDecision decision = FileDecision::kDecline;
  pollfd pfd{in, POLLIN, 0};
  if (poll(&pfd, 1, timeout_ms) > 0) {
    // One line, byte by byte (no buffering past it: later questions read the next line).
    std::string answer;
    char c = 0;
    while (read(in, &c, 1) == 1 && c != '\n' && answer.size() < 16)
      answer.push_back(c);
    if (!answer.empty() && (answer[0] == 'y' || answer[0] == 'Y'))
      decision = FileDecision::kAccept;
    else if (!answer.empty() && (answer[0] == 'r' || answer[0] == 'R') && request.exists)
      decision = FileDecision::kAcceptReplace;
  }
  if (!answers_on_stdin_)
    close(in);
  std::fprintf(out_, "%s file '%s'.\n",
               decision == FileDecision::kDecline ? "Declined" : "Accepted", request.name.c_str());
  std::fflush(out_);
  return decision;
}

bool TerminalHostUi::ShowSessionIndicator(const PeerInfo& peer) {
  const int written = std::fprintf(
      out_,
      "Session active: viewer %s (key %s) is watching this screen. Press "
      "Ctrl+C to end it.\n",
      FormatDeviceId(peer.device_id).c_str(), ShortFingerprint(peer.fingerprint).c_str());
  return written > 0 && std::fflush(out_) == 0;
}

void TerminalHostUi::HideSessionIndicator() {
  std::fprintf(out_, "Session ended.\n");
  std::fflush(out_);
}

void TerminalHostUi::OnPasswordChanged(const std::string& display_password, bool after_failures) {
  if (after_failures) {
    std::fprintf(out_, "Too many failed attempts: the password was replaced.\n");
  }
  std::fprintf(out_, "Password: %s\n", display_password.c_str());
  std::fflush(out_);
}

std::string ReadSecretLine(const std::string& prompt) {
  std::string line;
  const int tty = isatty(STDIN_FILENO) ? open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
  if (tty >= 0) {
    termios old_mode{};
    const bool have_mode = tcgetattr(tty, &old_mode) == 0;
    if (have_mode) {
      termios quiet = old_mode;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(tty, TCSAFLUSH, &quiet);
    }
    if (write(tty, prompt.data(), prompt.size()) < 0) {
      // Still read; the prompt is a courtesy.
    }
    char c = 0;
    while (read(tty, &c, 1) == 1 && c != '\n' && line.size() < 256)
      line.push_back(c);
    if (have_mode)
      tcsetattr(tty, TCSAFLUSH, &old_mode);
    if (write(tty, "\n", 1) < 0) {
    }
    close(tty);
  } else {
    std::getline(std::cin, line);
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
    line.pop_back();
  return line;
}

Expected<std::string> ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error{ErrorCode::kFileIo,
                 "cannot read " + path + ": " + std::string(std::strerror(errno))};
  }
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
    line.pop_back();
  return line;
}

}  // namespace lifeline
