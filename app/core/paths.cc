#include "app/core/paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace lifeline {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value)
      return std::nullopt;
    return std::string(value);
  };
}

Expected<AppPaths> ResolveAppPaths(const std::string& executable_dir, const EnvLookup& env) {
  AppPaths paths;
  std::error_code ec;
  const std::filesystem::path marker = std::filesystem::path(executable_dir) / kPortableMarkerName;
  if (!executable_dir.empty() && std::filesystem::exists(marker, ec)) {
    paths.portable = true;
    paths.config_dir = (std::filesystem::path(executable_dir) / "lifeline-data").string();
  } else {
    auto xdg = env("XDG_CONFIG_HOME");
    // The XDG spec says relative paths are invalid and must be ignored.
    if (xdg && !xdg->empty() && (*xdg)[0] == '/') {
      paths.config_dir = *xdg + "/lifeline";
    } else {
      auto home = env("HOME");
      if (!home || home->empty() || (*home)[0] != '/') {
        return Error{ErrorCode::kSettingsIo,
                     "cannot find a settings folder: neither XDG_CONFIG_HOME nor HOME is set "
                     "to an absolute path"};
      }
      paths.config_dir = *home + "/.config/lifeline";
    }
  }
  paths.settings_file = paths.config_dir + "/settings.toml";
  paths.log_file = paths.config_dir + "/lifeline.log";
  return paths;
}

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec)
    return {};
  return exe.parent_path().string();
}

Status EnsureConfigDir(const AppPaths& paths) {
  std::error_code ec;
  std::filesystem::create_directories(paths.config_dir, ec);
  if (ec) {
    return Status(ErrorCode::kSettingsIo,
                  "cannot create settings folder " + paths.config_dir + ": " + ec.message());
  }
  if (!paths.portable)
    chmod(paths.config_dir.c_str(), 0700);
  return Status::Ok();
}

}  // namespace lifeline
