// The SDL2 viewer window. The only code that includes <SDL.h>; this header does not.
//
// Threading: RunSdlViewer runs on the process's main thread (SDL's rule) and is the
// render thread: it takes pictures from the session's latest-frame slot and draws them.
#pragma once

#include <atomic>
#include <string>

#include "app/core/viewer_session.h"
#include "base/status.h"

namespace lifeline {

struct SdlViewerOptions {
  std::string title = "Lifeline";
  bool fullscreen = false;
  double duration_s = 0;  // 0: until the window closes or the session ends.
};

// Opens a resizable window and draws the session's pictures (aspect ratio kept, black
// bars around) into a streaming YUV texture until the window is closed, the session
// ends, `stop` becomes true or `duration_s` passes. F11 toggles fullscreen.
// Error kDisplayUnavailable when no window can be opened.
Status RunSdlViewer(ViewerSession* session,
                    const SdlViewerOptions& options,
                    const std::atomic<bool>& stop);

}  // namespace lifeline
