// Clipboard: the desktop's clipboard text, watched and set. One backend per platform
// (X11: the CLIPBOARD selection, capture/x11/clipboard_x11.cc).
//
// Watching: after Start(), `on_changed` is called whenever another application copies
// text (UTF-8, at most `max_bytes`; larger or non-text contents are skipped with a log
// line). Text this clipboard set itself is not reported back.
// Setting: SetText() makes this process the clipboard's owner with `text`; it serves the
// text to every application that pastes until another application copies something.
//
// Threading: the X11 backend owns one thread (created by Start(), joined by the
// destructor) with its own X connection; `on_changed` runs on it. SetText() may be
// called from any thread. Destroy from any thread but not from inside `on_changed`.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"

namespace lifeline {

struct CaptureOptions;

class Clipboard {
 public:
  using ChangedCallback = std::function<void(const std::string& utf8)>;
  virtual ~Clipboard() = default;

  // Errors: kClipboardUnavailable (no XFixes; the thread could not start).
  virtual Status Start(ChangedCallback on_changed) = 0;
  // Errors: kClipboardTooLarge over max_bytes; kInvalidArgument for invalid UTF-8.
  virtual Status SetText(const std::string& utf8) = 0;
};

// The X11 CLIPBOARD selection on `display` (empty: $DISPLAY). Errors:
// kDisplayUnavailable, kClipboardUnavailable (no XFixes extension).
Expected<std::unique_ptr<Clipboard>> CreateX11Clipboard(const std::string& display,
                                                        size_t max_bytes);

// The clipboard of the desktop `options` captures; kClipboardUnavailable for sources
// without a desktop.
Expected<std::unique_ptr<Clipboard>> CreateClipboard(const CaptureOptions& options,
                                                     size_t max_bytes);

}  // namespace lifeline
