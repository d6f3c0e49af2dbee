// The wxWidgets desktop app. The only code that includes <wx/...>; this header does not.
//
// Threading: runs on the process's main thread until the last window closes.
#pragma once

#include "app/core/paths.h"

namespace lifeline {

// Shows the main window; returns the process exit code. The caller has checked that a
// display is available (CheckDisplayAvailable), so GTK start-up cannot fail noisily.
int RunDesktopApp(int argc, char** argv, const AppPaths& paths);

}  // namespace lifeline
