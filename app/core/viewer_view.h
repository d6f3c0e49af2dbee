// Viewer window geometry and the stats panel text: pure functions, no GUI headers.
// Used by app/viewer_sdl on its UI thread; everything here is a value type.
#pragma once

#include <string>
#include <vector>

#include "app/core/stats.h"
#include "base/geometry.h"

namespace lifeline {

enum class ViewScale { kFit, kOneToOne };

// A rectangle in window pixels.
struct ViewRect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  bool operator==(const ViewRect&) const = default;
};

// Where the host frame is drawn in the window and which part of it is shown.
struct ViewLayout {
  ViewRect source;       // Part of the host frame shown (host pixels).
  ViewRect destination;  // Where it lands in the window (window pixels).
};

// The scroll state of the 1:1 mode, kept clamped to the frame and window.
struct ViewState {
  ViewScale scale = ViewScale::kFit;
  int scroll_x = 0;  // Host pixel shown at the window's left edge in 1:1 mode.
  int scroll_y = 0;
};

// Largest rectangle with the frame's aspect ratio centred in `window` (letterboxed).
// Empty when either size is empty.
ViewRect FitRect(Size frame, Size window);

// Clamps the scroll to [0, frame - window] on each axis (0 when the frame fits).
void ClampScroll(ViewState* state, Size frame, Size window);

// Layout for the current mode; in 1:1 a frame smaller than the window is centred.
// `state` must be clamped (ClampScroll) first.
ViewLayout ComputeLayout(const ViewState& state, Size frame, Size window);

// Window pixel -> host-frame pixel, clamped to the frame. false when the frame or the
// layout is empty (nothing to send).
bool WindowToHost(const ViewLayout& layout, int window_x, int window_y, int* host_x, int* host_y);

// The panel's lines: "fps 29.8", "kbit/s 1234", "latency 35 ms" ("-" when unknown),
// "codec h264", "rtt 2 ms". Only characters that PanelFontGlyph draws.
std::vector<std::string> FormatStatsPanel(const StatsSnapshot& stats, const std::string& codec);

// 5x7 bitmap glyph for the panel: 7 rows, bit 4 is the left column. Lower-case letters are
// drawn as capitals; unknown characters as "?". Returns nullptr for a space.
const unsigned char* PanelFontGlyph(char c);

}  // namespace lifeline
