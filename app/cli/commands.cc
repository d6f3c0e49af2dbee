#include "app/cli/commands.h"

#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "app/core/host_session.h"
#include "app/core/png_writer.h"
#include "app/core/viewer_session.h"
#include "app/viewer_sdl/sdl_viewer.h"
#include "base/log.h"
#include "net/tcp.h"

namespace lifeline {
namespace {

void PrintError(const std::string& what, const Error& error) {
  std::fprintf(stderr, "lifeline: %s: %s\n", what.c_str(), error.ToString().c_str());
}

// Plain TCP carries the screen unencrypted, so until the secure transport exists the
// host only listens on loopback addresses. There is deliberately no override.
bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace

int RunHostCommand(const HostCommandOptions& options,
                   Settings settings,
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
  auto address = ParseListenAddress(settings.host.listen);
  if (!address.ok()) {
    PrintError("--listen", address.error());
    return 2;
  }
  if (!IsLoopbackHost(address->host)) {
    std::fprintf(stderr,
                 "lifeline: --listen %s: this version only listens on loopback addresses "
                 "(127.0.0.1, ::1), because its connections are not yet encrypted\n",
                 settings.host.listen.c_str());
    return 2;
  }
  if (settings.host.source == CaptureSource::kX11) {
    // Fail now, with a clear sentence, rather than when the first viewer connects.
    if (Status st = CheckDisplayAvailable(settings.host.display); !st.ok()) {
      PrintError("cannot capture the screen", st.error());
      return 1;
    }
  }
  auto listener = TcpListener::Listen(*address);
  if (!listener.ok()) {
    PrintError("cannot listen", listener.error());
    return 1;
  }
  std::printf("Lifeline host listening on %s\n", (*listener)->local_address().ToString().c_str());
  std::fflush(stdout);

  HostOptions host_options;
  host_options.capture.source = settings.host.source;
  host_options.capture.x11_display = settings.host.display;
  host_options.preferred_codec = settings.host.codec;
  host_options.bitrate_kbps = settings.host.bitrate_kbps;
  host_options.max_fps = settings.host.max_fps;
  host_options.max_frames_in_flight = settings.host.max_frames_in_flight;

  int exit_code = 0;
  while (!stop.load()) {
    auto transport = (*listener)->Accept(200);
    if (!transport.ok()) {
      if (transport.error().code == ErrorCode::kConnectionTimedOut)
        continue;
      PrintError("accept failed", transport.error());
      return 1;
    }
    HostSession session(host_options, std::move(transport).value());
    Status result = session.Run(stop);
    const HostSessionStats stats = session.stats();
    log::Info(
        "host: {} frames captured, {} encoded ({} keyframes, {} refreshes), {} skipped, {} "
        "bytes sent",
        stats.frames_captured, stats.frames_encoded, stats.keyframes, stats.refreshes,
        stats.frames_skipped, stats.bytes_sent);
    if (!result.ok()) {
      PrintError("session ended", result.error());
      exit_code = 1;
      // Capture failures are about this machine, not the viewer: stop serving.
      if (result.code() == ErrorCode::kCaptureFailed ||
          result.code() == ErrorCode::kDisplayUnavailable ||
          result.code() == ErrorCode::kEncoderInitFailed) {
        return exit_code;
      }
    } else {
      exit_code = 0;
    }
    if (options.once)
      break;
  }
  return exit_code;
}

int RunViewCommand(const ViewCommandOptions& options, const std::atomic<bool>& stop) {
  auto address = ParseHostPort(options.address);
  if (!address.ok()) {
    PrintError("address", address.error());
    return 2;
  }
  auto transport = ConnectTcp(*address, 10'000, &stop);
  if (!transport.ok()) {
    PrintError("cannot connect to " + address->ToString(), transport.error());
    return 1;
  }
  ViewerOptions viewer_options;
  viewer_options.stats_path = options.stats_path;
  ViewerSession session(viewer_options, std::move(transport).value());
  if (Status st = session.Start(); !st.ok()) {
    PrintError("cannot start", st.error());
    return 1;
  }

  const auto start = std::chrono::steady_clock::now();
  auto expired = [&] {
    return options.duration_s > 0 && std::chrono::steady_clock::now() - start >=
                                         std::chrono::duration<double>(options.duration_s);
  };
  int exit_code = 0;
  if (options.headless) {
    while (!stop.load() && !expired() && !session.WaitClosed(100)) {
    }
  } else {
    SdlViewerOptions sdl_options;
    sdl_options.fullscreen = options.fullscreen;
    sdl_options.title = "Lifeline - " + address->ToString();
    sdl_options.duration_s = options.duration_s;
    Status st = RunSdlViewer(&session, sdl_options, stop);
    if (!st.ok()) {
      PrintError("viewer window", st.error());
      exit_code = 1;
    }
  }
  const bool ended_by_host = session.closed();
  const Error reason = session.close_reason();
  session.Stop();
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
