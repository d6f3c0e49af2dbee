#include "app/cli/commands.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "app/cli/terminal_ui.h"
#include "app/core/audit_log.h"
#include "app/core/host_credentials.h"
#include "app/core/host_security_state.h"
#include "app/core/host_service.h"
#include "app/core/host_session.h"
#include "app/core/input_script.h"
#include "app/core/png_writer.h"
#include "app/core/qr_code.h"
#include "app/core/two_factor.h"
#include "app/core/viewer_session.h"
#include "app/viewer_sdl/sdl_viewer.h"
#include "base/log.h"
#include "base/wall_clock.h"
#include "net/auth/one_time_password.h"
#include "net/proxy/outbound.h"
#include "net/relay/relay_client.h"
#include "net/tcp.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"

namespace lifeline {
namespace {

void PrintError(const std::string& what, const Error& error) {
  std::fprintf(stderr, "lifeline: %s: %s\n", what.c_str(), error.ToString().c_str());
}

constexpr int kTlsHandshakeTimeoutMs = 10'000;

// The whole of a small file. Error kFileIo naming the file (missing, unreadable, larger
// than `max_bytes`).
Expected<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return Error{ErrorCode::kFileIo, "cannot open " + path};
  std::string text;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    text.append(buffer, n);
    if (text.size() > max_bytes) {
      std::fclose(file);
      return Error{ErrorCode::kFileIo,
                   path + " is larger than " + std::to_string(max_bytes) + " bytes"};
    }
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed)
    return Error{ErrorCode::kFileIo, "cannot read " + path};
  return text;
}

// Replaces `path` with `text`. Error kFileIo naming the file.
Status WriteSmallFile(const std::string& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr)
    return Status(ErrorCode::kFileIo, "cannot write " + path);
  const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (std::fclose(file) != 0 || !ok)
    return Status(ErrorCode::kFileIo, "cannot write " + path);
  return Status::Ok();
}

}  // namespace

int RunHostCommand(const HostCommandOptions& options,
                   Settings settings,
                   const AppPaths& paths,
                   const std::atomic<bool>& stop) {
  if (options.listen)
    settings.host.listen = *options.listen;
  if (options.display)
    settings.host.display = *options.display;
  if (options.max_fps)
    settings.host.max_fps = *options.max_fps;
  if (options.bitrate_kbps)
    settings.host.bitrate_kbps = *options.bitrate_kbps;
  if (options.source) {
    auto source = ParseCaptureSource(*options.source);
    if (!source.ok()) {
      PrintError("--source", source.error());
      return 2;
    }
    settings.host.source = *source;
  }
  if (options.codec) {
    auto codec = ParseVideoCodec(*options.codec);
    if (!codec.ok()) {
      PrintError("--codec", codec.error());
      return 2;
    }
    settings.host.codec = *codec;
  }
  if (Status st = ValidateSettings(settings); !st.ok()) {
    PrintError("invalid option", st.error());
    return 2;
  }
  if (options.relay.address.empty()) {
    if (auto address = ParseListenAddress(settings.host.listen); !address.ok()) {
      PrintError("--listen", address.error());
      return 2;
    }
  }
  if (settings.host.source == CaptureSource::kX11) {
    // Fail now, with a clear sentence, rather than when the first viewer connects.
    if (Status st = CheckDisplayAvailable(settings.host.display); !st.ok()) {
      PrintError("cannot capture the screen", st.error());
      return 1;
    }
  }

  // The long-lived security state, shared by every session of this run.
  auto security_state = HostSecurityState::Open(paths, settings, options.require_consent);
  if (!security_state.ok()) {
    PrintError("cannot start the host", security_state.error());
    return 1;
  }
  HostSecurityState& state = **security_state;
  TerminalHostUi ui(stdout, options.confirm_on_stdin);
  state.security.ui = &ui;

  HostServiceOptions service_options;
  service_options.listen = settings.host.listen;
  service_options.once = options.once;
  HostOptions& host_options = service_options.session;
  host_options.capture.source = settings.host.source;
  host_options.capture.x11_display = settings.host.display;
  host_options.preferred_codec = settings.host.codec;
  if (options.codec)
    host_options.forced_codec = settings.host.codec;
  host_options.bitrate_kbps = settings.host.bitrate_kbps;
  host_options.max_fps = settings.host.max_fps;
  host_options.max_frames_in_flight = settings.host.max_frames_in_flight;
  host_options.remote_control.control_mode =
      options.view_only ? ControlMode::kViewOnly : ControlMode::kFull;
  auto clipboard_mode = ParseClipboardMode(options.clipboard);
  if (!clipboard_mode.ok()) {
    PrintError("--clipboard", clipboard_mode.error());
    return 2;
  }
  host_options.remote_control.clipboard_mode = *clipboard_mode;
  host_options.receive_dir = options.receive_dir;
  host_options.send_path = options.send_path;

  if (!options.relay.address.empty()) {
    auto relay = ResolveRelayCliOptions(options.relay);
    if (!relay.ok()) {
      std::fprintf(stderr, "lifeline: %s\n", relay.error().message.c_str());
      return 2;
    }
    service_options.use_relay = true;
    service_options.relay = std::move(relay).value();
    auto proxy = ResolveProxyOptions(options.proxy);
    if (!proxy.ok()) {
      std::fprintf(stderr, "lifeline: %s\n", proxy.error().message.c_str());
      return 2;
    }
    service_options.relay.proxy = std::move(proxy).value();
  }
  HostService service(service_options, &state);
  int exit_code = 0;
  ErrorCode last_session_error = ErrorCode::kOk;
  service.set_status_callback([&](const HostServiceStatus& status) {
    switch (status.state) {
      case HostServiceState::kListening:
        std::printf("Lifeline host listening on %s\n", status.address.c_str());
        ui.ShowCredentials(FormatDeviceId(status.id), state.credentials->display_password());
        break;
      case HostServiceState::kRegistered:
        std::printf("%s\n", status.text.c_str());
        ui.ShowCredentials(FormatDeviceId(status.id), state.credentials->display_password());
        break;
      case HostServiceState::kConnectingToRelay:
      case HostServiceState::kRelayUnreachable:
        std::printf("%s\n", status.text.c_str());
        std::fflush(stdout);
        break;
      case HostServiceState::kSessionEnded:
        if (status.error.code != ErrorCode::kOk) {
          PrintError("session ended", status.error);
          last_session_error = status.error.code;
          exit_code = 1;
        } else {
          exit_code = 0;
        }
        break;
      default:
        break;
    }
  });
  Status result = service.Run(stop);
  if (!result.ok()) {
    // Session failures were printed as they happened; the rest is said here.
    if (result.code() != last_session_error)
      PrintError(result.code() == ErrorCode::kListenFailed ? "cannot listen" : "host stopped",
                 result.error());
    return 1;
  }
  return exit_code;
}

int RunViewCommand(const ViewCommandOptions& options,
                   const AppPaths& paths,
                   const std::atomic<bool>& stop) {
  const bool via_relay = !options.relay.address.empty();
  auto proxy = ResolveProxyOptions(options.proxy);
  if (!proxy.ok()) {
    std::fprintf(stderr, "lifeline: %s\n", proxy.error().message.c_str());
    return 2;
  }
  std::string target;  // What the user asked for, for messages.
  std::optional<HostRelayOptions> relay;
  std::string relay_id;
  std::optional<HostPort> address;
  if (via_relay) {
    auto resolved = ResolveRelayCliOptions(options.relay);
    if (!resolved.ok()) {
      std::fprintf(stderr, "lifeline: %s\n", resolved.error().message.c_str());
      return 2;
    }
    relay = std::move(resolved).value();
    for (char c : options.address)
      if (c != ' ')
        relay_id.push_back(c);
    if (!IsRelayId(relay_id)) {
      std::fprintf(stderr, "lifeline: with --relay, give the host's 9-digit ID, not \"%s\"\n",
                   options.address.c_str());
      return 2;
    }
    target = "ID " + FormatDeviceId(relay_id);
  } else {
    auto parsed = ParseHostPort(options.address);
    if (!parsed.ok()) {
      PrintError("address", parsed.error());
      return 2;
    }
    address = *parsed;
    target = address->ToString();
  }
  std::vector<InputScriptStep> input_script;
  if (!options.input_script_path.empty()) {
    auto text = ReadSmallFile(options.input_script_path, kMaxInputScriptBytes);
    auto steps =
        text.ok() ? ParseInputScript(*text) : Expected<std::vector<InputScriptStep>>(text.error());
    if (!steps.ok()) {
      PrintError("--input-script", steps.error());
      return 2;
    }
    input_script = std::move(steps).value();
  }
  auto identity = DeviceIdentity::LoadOrCreate(paths.config_dir);
  if (!identity.ok()) {
    PrintError("device identity", identity.error());
    return 1;
  }
  // The password never comes from the command line: a file, or the terminal / a pipe.
  std::string password;
  if (!options.password_file.empty()) {
    auto line = ReadFirstLine(options.password_file);
    if (!line.ok()) {
      PrintError("--password-file", line.error());
      return 2;
    }
    password = std::move(line).value();
  } else {
    password = ReadSecretLine("Password for " + target + ": ");
  }
  if (password.empty()) {
    std::fprintf(stderr, "lifeline: no password given\n");
    return 2;
  }
  if (auto normalized = NormalizeOneTimePassword(password); !normalized.ok()) {
    PrintError("password", normalized.error());  // A typo: say so before connecting.
    return 2;
  }
  std::unique_ptr<Transport> transport;
  std::string bound_fingerprint;  // Relay: the key the relay bound to the ID.
  if (via_relay) {
    RelayEndpoint endpoint;
    // Both were checked by ResolveRelayCliOptions.
    endpoint.address = ParseHostPort(relay->address).value();
    if (!relay->fallback_address.empty())
      endpoint.fallback = ParseHostPort(relay->fallback_address).value();
    endpoint.pin = relay->pin;
    endpoint.proxy = *proxy;
    auto pairing = ConnectViaRelay(endpoint, *identity, relay_id, &stop);
    if (!pairing.ok()) {
      PrintError("cannot reach " + target + " through relay " + relay->address, pairing.error());
      return 1;
    }
    log::Info("viewer: paired with {} through relay {} ({})", target, pairing->relay_address,
              pairing->route);
    bound_fingerprint = pairing->binding.fingerprint;
    transport = std::move(pairing->stream);
  } else {
    OutboundOptions outbound;
    outbound.timeout_ms = 10'000;
    outbound.cancel = &stop;
    OutboundRoute route;
    auto direct = ConnectOutbound(*address, *proxy, outbound, &route);
    if (!direct.ok()) {
      PrintError("cannot connect to " + target, direct.error());
      return 1;
    }
    if (route.notice)
      std::fprintf(stderr, "lifeline: %s\n", route.notice->ToString().c_str());
    log::Info("viewer: connected to {} ({}, {} ms)", target, route.description, route.elapsed_ms);
    transport = std::move(direct).value();
  }
  auto tls = TlsHandshake(std::move(transport), TlsRole::kClient, *identity, kTlsHandshakeTimeoutMs,
                          &stop);
  if (!tls.ok()) {
    PrintError("cannot set up an encrypted connection to " + target, tls.error());
    return 1;
  }
  if (via_relay && (*tls)->peer_fingerprint() != bound_fingerprint) {
    // The relay said this ID belongs to one key, and someone else answered.
    PrintError("refusing " + target,
               Error{ErrorCode::kRelayBindingInvalid,
                     "the host's key " + ShortFingerprint((*tls)->peer_fingerprint()) +
                         " is not the key the relay bound to this ID (" +
                         ShortFingerprint(bound_fingerprint) + ")"});
    return 1;
  }
  SecureChannelInfo channel_info;
  channel_info.channel_binding = (*tls)->channel_binding();
  channel_info.peer_fingerprint = (*tls)->peer_fingerprint();
  channel_info.peer_address = target;

  ViewerOptions viewer_options;
  viewer_options.stats_path = options.stats_path;
  viewer_options.receive_dir = options.receive_dir;
  viewer_options.own_device_id = DeviceIdFromFingerprint(identity->fingerprint());
  viewer_options.password = std::move(password);
  const std::string code_file = options.code_file;
  viewer_options.totp_code = [code_file]() -> std::string {
    if (!code_file.empty()) {
      auto line = ReadFirstLine(code_file);
      return line.ok() ? *line : std::string();
    }
    return ReadSecretLine("2FA code: ");
  };
  ViewerSession session(viewer_options, channel_info, std::move(tls).value());
  if (Status st = session.Start(); !st.ok()) {
    PrintError("cannot start", st.error());
    return 1;
  }

  // Scripted input: once the host accepted us, on its own thread.
  std::atomic<bool> script_stop{false};
  std::thread script_thread;
  if (!input_script.empty()) {
    script_thread = std::thread([&] {
      while (!session.authenticated() && !session.closed() && !stop.load() && !script_stop.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (!session.authenticated())
        return;
      Status st = RunInputScript(input_script, session.remote_control(), script_stop);
      if (!st.ok() && st.code() != ErrorCode::kCancelled)
        PrintError("--input-script", st.error());
      else if (st.ok())
        log::Info("viewer: input script done");
    });
  }

  // A file for the host: once the host accepted us, on its own thread.
  std::atomic<bool> file_done{false};
  std::atomic<bool> file_failed{false};
  std::thread file_thread;
  if (!options.send_path.empty()) {
    file_thread = std::thread([&] {
      while (!session.authenticated() && !session.closed() && !stop.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (!session.authenticated()) {
        file_failed = true;
        file_done = true;
        return;
      }
      std::fprintf(stderr, "Sending %s (waiting for the host to accept)...\n",
                   options.send_path.c_str());
      auto last_decile = std::make_shared<std::atomic<int>>(-1);
      OutgoingFile* transfer =
          session.SendFile(options.send_path, [last_decile](uint64_t done, uint64_t size) {
            const int decile = size ? static_cast<int>(done * 10 / size) : 10;
            if (last_decile->exchange(decile) != decile)
              std::fprintf(stderr, "  sent %d%%\n", decile * 10);
          });
      std::optional<OutgoingFile::Outcome> outcome;
      while (!outcome && !stop.load())
        outcome = transfer->Wait(200);
      if (outcome && outcome->status.ok()) {
        std::fprintf(stderr, "Sent %s: the host verified it (SHA-256)%s.\n",
                     options.send_path.c_str(),
                     outcome->resumed_from > 0
                         ? (", resumed at byte " + std::to_string(outcome->resumed_from)).c_str()
                         : "");
      } else {
        PrintError("--send",
                   outcome ? outcome->status.error() : Error{ErrorCode::kCancelled, "stopped"});
        file_failed = true;
      }
      file_done = true;
    });
  }

  const auto start = std::chrono::steady_clock::now();
  auto expired = [&] {
    return options.duration_s > 0 && std::chrono::steady_clock::now() - start >=
                                         std::chrono::duration<double>(options.duration_s);
  };
  int exit_code = 0;
  if (options.headless) {
    while (!stop.load() && !expired() && !session.WaitClosed(100)) {
      if (file_done.load() && options.duration_s <= 0)
        break;  // The file was the point of this run.
      if (options.clipboard_out_path.empty())
        continue;
      if (auto text = session.remote_control().TakeClipboardFromHost()) {
        if (Status st = WriteSmallFile(options.clipboard_out_path, *text); !st.ok())
          PrintError("--clipboard-out", st.error());
      }
    }
  } else {
    SdlViewerOptions sdl_options;
    sdl_options.fullscreen = options.fullscreen;
    sdl_options.title = "Lifeline - " + target;
    sdl_options.duration_s = options.duration_s;
    Status st = RunSdlViewer(&session, sdl_options, stop);
    if (!st.ok()) {
      PrintError("viewer window", st.error());
      exit_code = 1;
    }
  }
  script_stop = true;
  if (script_thread.joinable())
    script_thread.join();
  const bool ended_before_file = !options.send_path.empty() && !file_done.load();
  const bool ended_by_host = session.closed();
  const Error reason = session.close_reason();
  session.Stop();  // Also ends a transfer still running (resumable): its thread returns.
  if (file_thread.joinable())
    file_thread.join();
  if (file_failed.load() || ended_before_file)
    exit_code = 1;
  if (ended_by_host && reason.code != ErrorCode::kConnectionClosed &&
      reason.code != ErrorCode::kOk) {
    PrintError("session ended", reason);
    exit_code = 1;
  }
  if (!options.snapshot_path.empty()) {
    auto frame = session.last_frame();
    if (!frame) {
      std::fprintf(stderr, "lifeline: --snapshot: no frame was decoded, nothing written\n");
      exit_code = exit_code ? exit_code : 1;
    } else if (Status st = WriteI420AsPng(frame->image, options.snapshot_path); !st.ok()) {
      PrintError("--snapshot", st.error());
      exit_code = 1;
    }
  }
  return exit_code;
}

}  // namespace lifeline

namespace lifeline {

int RunTwoFactorCommand(const std::string& action,
                        const std::string& png_path,
                        const AppPaths& paths) {
  if (Status st = EnsureConfigDir(paths); !st.ok()) {
    PrintError("settings folder", st.error());
    return 1;
  }
  const std::string path = paths.config_dir + "/two_factor.toml";
  auto two_factor = TwoFactor::Load(path, SystemWallClock::Get());
  if (!two_factor.ok()) {
    PrintError("2FA", two_factor.error());
    return 1;
  }
  auto audit = AuditLog::Open(paths.config_dir + "/audit.log", SystemWallClock::Get());
  auto record = [&](AuditEventType type) {
    if (!audit.ok())
      return;
    AuditEvent event;
    event.type = type;
    static_cast<void>((*audit)->Append(event));
  };
  if (action == "status") {
    std::printf("2FA is %s\n", (*two_factor)->enabled() ? "on" : "off");
    return 0;
  }
  if (action == "disable") {
    if (Status st = (*two_factor)->Disable(); !st.ok()) {
      PrintError("2FA", st.error());
      return 1;
    }
    record(AuditEventType::kTotpDisabled);
    std::printf("2FA is off\n");
    return 0;
  }
  // enroll
  auto identity = DeviceIdentity::LoadOrCreate(paths.config_dir);
  if (!identity.ok()) {
    PrintError("device identity", identity.error());
    return 1;
  }
  const std::string host_id = DeviceIdFromFingerprint(identity->fingerprint());
  auto enrollment = (*two_factor)->StartEnrollment(host_id);
  if (!enrollment.ok()) {
    PrintError("2FA", enrollment.error());
    return 1;
  }
  auto qr = EncodeQr(enrollment->uri);
  if (!qr.ok()) {
    PrintError("QR code", qr.error());
    return 1;
  }
  std::printf("Scan this with an authenticator app (or type the secret %s):\n\n%s\n%s\n\n",
              enrollment->secret_base32.c_str(), RenderQrForTerminal(*qr).c_str(),
              enrollment->uri.c_str());
  if (!png_path.empty()) {
    if (Status st = WriteQrPng(*qr, png_path); !st.ok()) {
      PrintError("--png", st.error());
      return 1;
    }
    std::printf("QR code written to %s\n", png_path.c_str());
  }
  std::fflush(stdout);
  const std::string code = ReadSecretLine("Code shown by the app: ");
  if (Status st = (*two_factor)->FinishEnrollment(code); !st.ok()) {
    PrintError("2FA stays off", st.error());
    return 1;
  }
  record(AuditEventType::kTotpEnabled);
  std::printf("2FA is on: viewers will be asked for a code after the password.\n");
  return 0;
}

int RunAuditVerifyCommand(const std::string& path, const AppPaths& paths) {
  const std::string file = path.empty() ? paths.config_dir + "/audit.log" : path;
  auto report = AuditLog::Verify(file);
  if (!report.ok()) {
    PrintError("audit verify", report.error());
    return 2;
  }
  if (!report->ok()) {
    std::printf("audit log %s is NOT intact: %s\n", file.c_str(), report->reason.c_str());
    return 1;
  }
  std::printf("audit log %s is intact: %llu entries%s%s\n", file.c_str(),
              static_cast<unsigned long long>(report->lines_checked),
              report->note.empty() ? "" : "; ", report->note.c_str());
  return 0;
}

}  // namespace lifeline
