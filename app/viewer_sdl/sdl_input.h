// SdlInputForwarder: turns the SDL window's keyboard and mouse events into remote-control
// messages (RemoteControlViewer). Private to app/viewer_sdl (it includes <SDL.h>).
//
// Coordinates: the renderer has a logical size equal to the frame (sdl_viewer.cc), so SDL
// reports mouse positions in frame pixels whatever the window size, high-DPI scaling or
// fullscreen; points in the letterbox bars are clamped to the picture's edge.
//
// Keys: printable characters travel as text (SDL_TEXTINPUT: the viewer's layout, dead
// keys and input method applied), other keys and every key pressed with Ctrl, Alt or
// Super as keysyms. Right Alt is the viewer's AltGr (it composes text here) and is not
// sent. Shortcuts for combinations the local system would take:
//   Ctrl+Alt+End -> Ctrl+Alt+Del,  Alt+Page_Up -> Alt+Tab,  Alt+Home -> Super.
// Losing focus releases every key sent as pressed. Clipboard text goes both ways (the
// host's setting decides what it accepts and sends).
//
// Threading: the render (main) thread only.
#pragma once

#include <SDL.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "app/core/remote_control_viewer.h"
#include "base/geometry.h"

namespace lifeline {

// The X11 keysym for an SDL key (0 when it has none).
uint32_t KeysymFromSdl(SDL_Keycode key);

class SdlInputForwarder {
 public:
  explicit SdlInputForwarder(RemoteControlViewer* control) : control_(control) {}

  // Handles `event` when it is input; `frame` is the picture's size (empty: no picture
  // yet, pointer events are dropped). True when the event was input (consumed).
  bool Handle(const SDL_Event& event, Size frame);
  // Releases every key this forwarder sent as pressed (focus lost, window closing).
  void ReleaseAll();
  // Puts clipboard text that arrived from the host on the local clipboard. Call once per
  // loop iteration. (Local copies go to the host on SDL_CLIPBOARDUPDATE in Handle();
  // text that came from the host is not sent back.)
  void PollClipboard();

 private:
  uint32_t Modifiers() const;

  RemoteControlViewer* const control_;
  std::map<SDL_Keycode, uint32_t> pressed_;  // SDL key -> keysym sent as pressed.
  std::string last_from_host_;
  int last_x_ = -1;
  int last_y_ = -1;
};

}  // namespace lifeline
