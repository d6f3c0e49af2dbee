// Another X11 application's side of the CLIPBOARD selection, for clipboard tests:
// X11ClipboardOwner copies text (owns CLIPBOARD and serves it from its own thread until
// destroyed); ReadX11Clipboard pastes (asks the current owner for UTF8_STRING).
// Failures throw std::runtime_error. X11 headers stay in the .cc file.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace lifeline::testing {

class X11ClipboardOwner {
 public:
  X11ClipboardOwner(const std::string& display, std::string text);
  ~X11ClipboardOwner();
  X11ClipboardOwner(const X11ClipboardOwner&) = delete;
  X11ClipboardOwner& operator=(const X11ClipboardOwner&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The clipboard's text as a pasting application gets it; nullopt when nobody owns it,
// the owner refuses, or nothing arrives within `timeout_ms`.
std::optional<std::string> ReadX11Clipboard(const std::string& display, int timeout_ms);

}  // namespace lifeline::testing
