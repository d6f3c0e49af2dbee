// `lifeline`: the one executable. No arguments: the desktop app. `host` / `view`: the
// command-line front-ends. Parsing only; the work happens in the session core.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "app/cli/commands.h"
#include "app/cli/doctor_command.h"
#include "app/cli/proxy_options.h"
#include "app/core/paths.h"
#include "app/core/settings.h"
#include "app/ui_wx/gui_app.h"
#include "base/log.h"
#include "base/version.h"
#include "capture/screen_capturer.h"

namespace {

std::atomic<bool> g_stop{false};

void OnStopSignal(int) {
  g_stop.store(true);
}

void InstallSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

lifeline::log::Level ParseLevel(const std::string& level) {
  if (level == "debug")
    return lifeline::log::Level::kDebug;
  if (level == "warning")
    return lifeline::log::Level::kWarning;
  if (level == "error")
    return lifeline::log::Level::kError;
  return lifeline::log::Level::kInfo;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lifeline;
  CLI::App app{"Lifeline: remote support. Run without arguments for the desktop app.", "lifeline"};
  app.set_version_flag("--version", std::string("lifeline ") + kVersionString);
  bool print_paths = false;
  app.add_flag("--paths", print_paths, "Print where settings and logs are kept, then exit");

  HostCommandOptions host;
  auto* host_cmd = app.add_subcommand("host", "Share this screen with one viewer");
  host_cmd->add_option("--listen", host.listen, "Address to listen on (default 127.0.0.1:7070)");
  host_cmd->add_option("--source", host.source, "Capture source: x11 or synthetic");
  host_cmd->add_option("--display", host.display, "X display to capture, e.g. :0");
  host_cmd->add_option("--codec", host.codec,
                       "Video codec: vp8, vp9 or h264 (forced: no session if the viewer lacks it)");
  host_cmd->add_option("--fps", host.max_fps, "Maximum frames per second (1-120)");
  host_cmd->add_option("--bitrate", host.bitrate_kbps, "Target bitrate in kbit/s");
  host_cmd->add_flag("--once", host.once, "Exit after the first viewer leaves");
  host_cmd->add_flag("--view-only", host.view_only,
                     "The viewer only watches: its keyboard and mouse are blocked");
  host_cmd->add_option("--receive-dir", host.receive_dir,
                       "Folder for files viewers send (each one is confirmed here)");
  host_cmd->add_option("--send", host.send_path,
                       "Offer FILE to the viewer once the session streams");
  host_cmd->add_flag("--confirm-on-stdin", host.confirm_on_stdin,
                     "Read answers to file confirmations from standard input (scripts)");
  host_cmd->add_option("--clipboard", host.clipboard,
                       "Clipboard text sharing: off, both, host-to-viewer, viewer-to-host");
  host_cmd->add_flag("--consent", host.require_consent,
                     "Ask on this terminal before each viewer may see the screen");
  AddRelayCliOptions(host_cmd, &host.relay);
  AddProxyOptions(host_cmd, &host.proxy);

  ViewCommandOptions view;
  auto* view_cmd = app.add_subcommand("view", "Watch a host's screen");
  view_cmd->add_option("address", view.address, "HOST:PORT of the host, or its ID with --relay")
      ->required();
  AddRelayCliOptions(view_cmd, &view.relay);
  AddProxyOptions(view_cmd, &view.proxy);
  view_cmd->add_flag("--fullscreen", view.fullscreen, "Start fullscreen (F11 toggles)");
  view_cmd->add_flag("--headless", view.headless, "Draw nothing (tests, diagnostics)");
  view_cmd->add_option("--stats", view.stats_path, "Write per-second stats as JSON lines");
  view_cmd->add_option("--snapshot", view.snapshot_path,
                       "On exit, write the last decoded frame as PNG");
  view_cmd->add_option("--duration", view.duration_s, "Leave after this many seconds");
  view_cmd->add_option("--input-script", view.input_script_path,
                       "Send the keyboard/mouse commands in FILE once the session runs");
  view_cmd->add_option("--send", view.send_path,
                       "Send FILE to the host (confirmed there); headless: leave when done");
  view_cmd->add_option("--receive-dir", view.receive_dir,
                       "Accept files the host sends into DIR (none accepted without it)");
  view_cmd->add_option("--clipboard-out", view.clipboard_out_path,
                       "Write clipboard text the host sends to FILE (headless)");
  view_cmd->add_option("--password-file", view.password_file,
                       "Read the host's one-time password from the first line of this file "
                       "(otherwise: prompt, or one line on standard input)");
  view_cmd->add_option("--code-file", view.code_file,
                       "Read the 2FA code from the first line of this file, if the host asks");

  std::string two_factor_action;
  std::string two_factor_png;
  auto* two_factor_cmd = app.add_subcommand("2fa", "Two-factor authentication for this host");
  two_factor_cmd->add_option("action", two_factor_action, "enroll, disable or status")
      ->required()
      ->check(CLI::IsMember({"enroll", "disable", "status"}));
  two_factor_cmd->add_option("--png", two_factor_png, "enroll: also write the QR code as PNG");

  std::string audit_action;
  std::string audit_file;
  auto* audit_cmd = app.add_subcommand("audit", "The host's audit log");
  audit_cmd->add_option("action", audit_action, "verify")
      ->required()
      ->check(CLI::IsMember({"verify"}));
  audit_cmd->add_option("file", audit_file, "Audit log (default: the one beside the settings)");
  DoctorCommandOptions doctor;
  auto* doctor_cmd = AddDoctorCommand(&app, &doctor);
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto paths = ResolveAppPaths(ExecutableDir(), ProcessEnv());
  if (!paths.ok()) {
    std::fprintf(stderr, "lifeline: %s\n", paths.error().ToString().c_str());
    return 1;
  }
  if (print_paths) {
    std::printf("mode: %s\nsettings: %s\nlog: %s\n", paths->portable ? "portable" : "installed",
                paths->settings_file.c_str(), paths->log_file.c_str());
    return 0;
  }

  auto settings = LoadSettings(paths->settings_file);
  if (!settings.ok()) {
    // A broken settings file is reported, never silently replaced or overwritten.
    std::fprintf(stderr, "lifeline: %s; using defaults for this run\n",
                 settings.error().ToString().c_str());
    settings = Settings{};
  }
  std::string log_path;
  if (EnsureConfigDir(*paths).ok())
    log_path = paths->log_file;
  log::Init(log_path, ParseLevel(settings->log.level));
  InstallSignalHandlers();

  if (*host_cmd)
    return RunHostCommand(host, *settings, *paths, g_stop);
  if (*view_cmd)
    return RunViewCommand(view, *paths, g_stop);
  if (*two_factor_cmd)
    return RunTwoFactorCommand(two_factor_action, two_factor_png, *paths);
  if (*audit_cmd)
    return RunAuditVerifyCommand(audit_file, *paths);
  if (*doctor_cmd)
    return RunDoctorCommand(doctor, g_stop);

  // The desktop app needs a display; say so in one sentence instead of GTK warnings.
  if (Status st = CheckDisplayAvailable(""); !st.ok()) {
    std::fprintf(stderr,
                 "lifeline: the desktop app needs a graphical display, and none could be "
                 "opened (DISPLAY=%s); use 'lifeline host' or 'lifeline view --headless' "
                 "from a terminal, or 'lifeline --help'.\n",
                 std::getenv("DISPLAY") ? std::getenv("DISPLAY") : "unset");
    return 1;
  }
  return RunDesktopApp(argc, argv, *paths);
}
