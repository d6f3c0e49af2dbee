// The mouse pointer as the host sees it: its picture (when it changed) and its position.
// It travels as its own messages, not inside the video (the viewer draws it).
#pragma once

#include <cstdint>
#include <vector>

#include "base/geometry.h"

namespace lifeline {

// Largest cursor side a capturer reports; bigger cursors are cut to this.
inline constexpr int kMaxCursorSidePx = 256;

struct CursorShape {
  uint64_t serial = 0;  // The server's id of this picture: equal serials, equal pictures.
  Size size;
  int hotspot_x = 0;
  int hotspot_y = 0;
  std::vector<uint8_t> rgba;  // size.width * size.height * 4: R, G, B, A, straight alpha.
};

struct CursorState {
  bool shape_changed = false;  // `shape` is new since the previous call.
  CursorShape shape;
  int x = 0;  // Pointer position in screen pixels.
  int y = 0;
  bool visible = true;  // False while the pointer is on another screen.
};

}  // namespace lifeline
