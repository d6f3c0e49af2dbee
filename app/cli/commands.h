// The command-line front-end: `lifeline host` and `lifeline view`. Thin: parsing lives
// in main.cc, the work in the session core.
//
// Threading: called on the main thread; `stop` is set by the SIGINT/SIGTERM handler.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "app/cli/proxy_options.h"
#include "app/cli/relay_options.h"
#include "app/core/paths.h"
#include "app/core/settings.h"

namespace lifeline {

struct HostCommandOptions {
  std::optional<std::string> listen;   // Overrides settings.host.listen.
  std::optional<std::string> source;   // "x11" | "synthetic".
  std::optional<std::string> display;  // ":N".
  std::optional<std::string> codec;    // "vp8" | "vp9".
  std::optional<int> max_fps;
  std::optional<int> bitrate_kbps;
  bool once = false;               // Exit after the first session.
  bool require_consent = false;    // Ask the local user before each session.
  RelayCliOptions relay;           // --relay...: register with a relay instead of listening.
  ProxyCliOptions proxy;           // --proxy...: how to reach the relay.
  bool view_only = false;          // The viewer watches; its keyboard and mouse are blocked.
  std::string clipboard = "both";  // off | both | host-to-viewer | viewer-to-host.
  std::string receive_dir;         // Files from viewers land here (each confirmed).
  std::string send_path;           // Offer this file to the viewer once the session streams.
  bool confirm_on_stdin = false;   // Answer confirmations from standard input.
};

struct ViewCommandOptions {
  std::string address;  // HOST:PORT, or with --relay the host's ID ("123 456 789").
  RelayCliOptions relay;
  ProxyCliOptions proxy;  // --proxy...: how to reach the host or the relay.
  bool fullscreen = false;
  bool headless = false;
  std::string stats_path;
  std::string snapshot_path;
  std::string password_file;       // First line: the one-time password. Empty: prompt/pipe.
  std::string code_file;           // First line: the 2FA code, if the host asks. Empty: prompt.
  double duration_s = 0;           // 0: until the host leaves or the window closes.
  std::string input_script_path;   // Scripted input once the session runs (input_script.h).
  std::string clipboard_out_path;  // Headless: write the host's clipboard text here.
  std::string send_path;           // Send this file to the host (it confirms).
  std::string receive_dir;         // Accept files the host sends into this folder.
};

// Both return the process exit code and print one clear sentence on failure.
int RunHostCommand(const HostCommandOptions& options,
                   Settings settings,
                   const AppPaths& paths,
                   const std::atomic<bool>& stop);
int RunViewCommand(const ViewCommandOptions& options,
                   const AppPaths& paths,
                   const std::atomic<bool>& stop);

// `lifeline 2fa enroll|disable|status` and `lifeline audit verify [FILE]`.
int RunTwoFactorCommand(const std::string& action,
                        const std::string& png_path,
                        const AppPaths& paths);
int RunAuditVerifyCommand(const std::string& path, const AppPaths& paths);

}  // namespace lifeline
