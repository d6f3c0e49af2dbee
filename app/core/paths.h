// Where Lifeline keeps its files.
//
// Installed mode: settings in $XDG_CONFIG_HOME/lifeline (or ~/.config/lifeline), log file
// beside them. Portable mode: when a file named "portable" sits beside the executable,
// everything lives in a "lifeline-data" folder beside the executable and nothing is
// written anywhere else (runs from a USB stick).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/status.h"

namespace lifeline {

struct AppPaths {
  bool portable = false;
  std::string config_dir;
  std::string settings_file;  // config_dir + "/settings.toml"
  std::string log_file;       // config_dir + "/lifeline.log"
};

// Looks up an environment variable; nullopt when unset. Injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

inline constexpr char kPortableMarkerName[] = "portable";

// Resolves the paths for an executable living in `executable_dir`. Pure apart from
// checking whether the portable marker file exists. Error kSettingsIo when neither
// $XDG_CONFIG_HOME nor $HOME is usable in installed mode.
Expected<AppPaths> ResolveAppPaths(const std::string& executable_dir, const EnvLookup& env);

// The folder holding the running executable (from /proc/self/exe).
std::string ExecutableDir();

// Creates `paths.config_dir` (and parents) with mode 0700 if missing.
Status EnsureConfigDir(const AppPaths& paths);

}  // namespace lifeline
