// Settings: the user's choices, stored as TOML in AppPaths::settings_file.
//
// Loading never loses data silently: a malformed file or value is an error naming the
// field ("host.max_fps: must be between 1 and 120, got 500"), and the caller decides
// whether to fall back to defaults (and says so). Unknown keys are ignored, so a newer
// version's file still loads. Secrets are never stored here in plain text.
#pragma once

#include <string>
#include <string_view>

#include "app/core/remote_service_settings.h"
#include "base/status.h"
#include "capture/screen_capturer.h"
#include "codec/video_codec.h"

namespace lifeline {

struct HostSettings {
  std::string listen = "127.0.0.1:7070";
  CaptureSource source = CaptureSource::kX11;
  std::string display;                   // Empty: $DISPLAY.
  VideoCodec codec = VideoCodec::kH264;  // Best in lifeline-video-bench (docs/benchmarks.md).
  int max_fps = 30;                      // 1..120
  int bitrate_kbps = 4000;               // 100..100000
  int max_frames_in_flight = 2;          // 1..8: frames sent but not yet acked by the viewer.
};

struct LogSettings {
  std::string level = "info";  // debug, info, warning, error
};

struct Settings {
  HostSettings host;
  LogSettings log;
  // [remote_service] and [ui]: the desktop app's Remote Service dialog (its passwords are
  // not here: see remote_service_settings.h).
  RemoteServiceSettings remote_service;
};

// Parses TOML text. Missing keys keep their defaults.
Expected<Settings> ParseSettings(std::string_view toml_text);

// Reads `path`; a missing file gives the defaults. Errors: kSettingsIo (unreadable),
// kSettingsInvalid (malformed; the message names the file and the field).
Expected<Settings> LoadSettings(const std::string& path);

// Writes atomically (temporary file + rename), mode 0600. Error kSettingsIo.
Status SaveSettings(const std::string& path, const Settings& settings);

std::string SerializeSettings(const Settings& settings);

// Checks ranges; the error names the first bad field.
Status ValidateSettings(const Settings& settings);

}  // namespace lifeline
