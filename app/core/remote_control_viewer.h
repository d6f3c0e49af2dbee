// RemoteControlViewer: what a viewer front-end (SDL window, headless input script) calls
// to control the host: pointer, keys, text, special key combinations, clipboard. It builds
// the wire messages and sends them on the channel's control queue, which is always
// written before video (net/message_channel.h), so input never waits behind a frame.
//
// Coordinates are host-frame pixels (the decoded picture), whatever the window's size,
// scaling or fullscreen state: the front-end maps its window coordinates first
// (MapViewToFrame below). Nothing is sent before the host accepted the session: the Send*
// calls return false then (and after the session ended).
//
// Threading: Send* may be called from any thread (the channel's Send is thread-safe).
// The clipboard text from the host arrives on the network thread (OnClipboardFromHost)
// and is read with TakeClipboardFromHost() from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/geometry.h"
#include "base/status.h"
#include "net/proto/lifeline.pb.h"

namespace lifeline {

// Key combinations a local keyboard cannot send to the remote machine (the local system
// takes them): offered in a menu / by shortcut in the viewer.
enum class SpecialCombo {
  kCtrlAltDel,  // Means something only where the host's desktop binds it.
  kAltTab,
  kSuper,  // The "Windows" key alone: opens the desktop's launcher.
  kCtrlEscape,
  kPrintScreen,
};

// Parses "ctrl-alt-del", "alt-tab", "super", "ctrl-esc", "print". nullopt otherwise.
std::optional<SpecialCombo> ParseSpecialCombo(std::string_view name);

// Maps a point in a view (window pixels) that shows a `frame` picture scaled into
// `view_rect` to frame pixels. nullopt when the point is outside the picture (letterbox
// bars); with `clamp`, such points are moved to the nearest edge instead.
std::optional<std::pair<int, int>> MapViewToFrame(int view_x,
                                                  int view_y,
                                                  const Rect& view_rect,
                                                  Size frame,
                                                  bool clamp);

class RemoteControlViewer {
 public:
  // Sends one message on the control queue; false when the session is not (or no
  // longer) running.
  using SendFunction = std::function<bool(const wire::Envelope&)>;
  explicit RemoteControlViewer(SendFunction send);

  bool SendMove(int x, int y);
  bool SendButton(int x, int y, wire::PointerButton button, bool pressed);
  bool SendWheel(int x, int y, int dx, int dy);
  // `modifiers`: KeyModifier bits held right now (the host releases stale ones).
  bool SendKey(uint32_t keysym, bool pressed, uint32_t modifiers);
  // Cut into messages of at most kMaxTextEventBytes at character boundaries. False also
  // for invalid UTF-8 (nothing sent).
  bool SendText(std::string_view utf8);
  // Presses the combination's keys in order and releases them in reverse.
  bool SendCombo(SpecialCombo combo);
  // kClipboardTooLarge over kMaxClipboardBytes, kInvalidArgument for invalid UTF-8,
  // kConnectionClosed when the session is not running.
  Status SendClipboard(std::string_view utf8);

  // Network thread: clipboard text from the host (already validated).
  void OnClipboardFromHost(std::string text);
  // The newest clipboard text from the host not yet taken.
  std::optional<std::string> TakeClipboardFromHost();
  // Called on the network thread when clipboard text arrives (e.g. to wake the UI).
  void set_clipboard_callback(std::function<void()> callback);

  // Messages sent so far.
  uint64_t events_sent() const;

 private:
  bool Send(wire::Envelope& message);

  SendFunction send_;
  mutable std::mutex mutex_;
  std::optional<std::string> clipboard_from_host_;  // Guarded by mutex_.
  std::function<void()> clipboard_callback_;        // Guarded by mutex_.
  uint64_t events_sent_ = 0;                        // Guarded by mutex_.
};

}  // namespace lifeline
