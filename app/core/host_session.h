// HostSession: streams this machine's screen to one connected viewer.
//
// PHASES
//   1. Authentication (auth_protocol.h) on the network thread: nothing but the auth
//      messages is accepted, and nothing of the screen is captured.
//   2. On Run()'s thread: the local user's consent (when required; no answer in 30 s is
//      a denial), then the "session active" indicator; if it cannot be shown the session
//      is refused (fail closed). Only then AuthResult goes out and streaming starts.
//   3. Streaming (below). At the end the indicator is hidden, the one-time password is
//      replaced, and the audit log records the end.
//
// THREADING
//   Run() is called on the caller's thread and blocks until the session ends. It owns:
//   - the capture thread: creates the ScreenCapturer (on that thread), captures at
//     `max_fps` and puts each frame into a LatestSlot (an unencoded frame is replaced by
//     a newer one, their damage merged: raw frames may be dropped, changes never);
//   - the encode thread: waits until fewer than `max_frames_in_flight` frames are
//     unacknowledged, takes the newest frame, encodes it and queues its chunks on the
//     channel; encoded frames are never dropped;
//   - the MessageChannel's network thread: acks free window slots, keyframe requests set
//     a flag for the encoder, pings are answered with pongs.
//
// FLOW CONTROL
//   The window (frames sent but not acked) bounds everything queued between host and
//   viewer: the channel's video queue holds at most `max_frames_in_flight` frames, and a
//   slow link or slow decoder slows capture-to-send instead of building a queue. The
//   newest frame always wins. Within that, RateController (rate_controller.h, THE RULE)
//   lowers the encoder's bitrate, then the frame rate, as soon as acks show a queue or a
//   lower delivery rate, and raises them again when the link allows; `bitrate_kbps` and
//   `max_fps` are the ceilings.
//
// STILL SCREENS
//   Nothing is encoded while nothing changes, except one refresh frame 300 ms after the
//   last change (see the REFRESH RULE in host_session.cc). With an event-driven capturer
//   (X11 DAMAGE) nothing is even captured: the capture thread sleeps in the capturer's
//   WaitForChange(), and the encode thread re-encodes its last frame for the refresh or a
//   keyframe request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/core/audit_log.h"
#include "app/core/auth_protocol.h"
#include "app/core/file_transfer.h"
#include "app/core/rate_controller.h"
#include "app/core/remote_control_host.h"
#include "base/latest_slot.h"
#include "base/status.h"
#include "capture/clipboard.h"
#include "capture/input_injector.h"
#include "capture/screen_capturer.h"
#include "codec/video_encoder.h"
#include "net/message_channel.h"
#include "net/transport.h"

namespace lifeline {

// Makes the input injector when streaming starts (never before AuthResult); called on
// Run()'s thread. Tests pass a fake.
using InputInjectorFactory =
    std::function<Expected<std::unique_ptr<InputInjector>>(const CaptureOptions&)>;

// Makes the desktop clipboard when streaming starts (unless the clipboard setting is
// off); called on Run()'s thread.
using ClipboardFactory =
    std::function<Expected<std::unique_ptr<Clipboard>>(const CaptureOptions&, size_t max_bytes)>;

struct HostOptions {
  CaptureOptions capture;
  VideoCodec preferred_codec = VideoCodec::kH264;
  // Set by --codec: this codec or no session (otherwise negotiated, see
  // NegotiateVideoCodec).
  std::optional<VideoCodec> forced_codec;
  int bitrate_kbps = 4000;
  int max_fps = 30;
  int max_frames_in_flight = 2;
  int handshake_timeout_ms = 5000;
  // Remote control (input, clipboard): see remote_control_host.h.
  RemoteControlOptions remote_control;
  InputInjectorFactory input_injector_factory = CreateInputInjector;
  ClipboardFactory clipboard_factory = CreateClipboard;
  // Files from the viewer land only here, each confirmed through the UI; empty: every
  // transfer is declined.
  std::string receive_dir;
  std::string send_path;  // Offered to the viewer once the session streams; empty: none.
  int file_confirm_timeout_ms = 60'000;
};

// Makes the capturer; called on the capture thread. Tests pass a fake.
using CapturerFactory =
    std::function<Expected<std::unique_ptr<ScreenCapturer>>(const CaptureOptions&)>;

struct HostSessionStats {
  uint64_t frames_captured = 0;
  uint64_t frames_dropped_unencoded = 0;  // Replaced in the slot before encoding.
  uint64_t frames_encoded = 0;
  uint64_t frames_skipped = 0;  // Nothing changed.
  uint64_t keyframes = 0;
  uint64_t refreshes = 0;  // Sharpening frames after the screen went still.
  uint64_t bytes_sent = 0;
  int max_in_flight_seen = 0;
  int target_bitrate_kbps = 0;  // Rate control's last targets (rate_controller.h).
  int target_fps = 0;
};

class HostSession : public MessageChannel::Delegate {
 public:
  // `security` is shared by all sessions and must outlive this one. `channel_info` comes
  // from the TLS handshake that produced `transport`.
  HostSession(HostOptions options,
              HostSecurity* security,
              SecureChannelInfo channel_info,
              std::unique_ptr<Transport> transport,
              CapturerFactory capturer_factory = CreateScreenCapturer);
  ~HostSession() override;

  // Runs the session until the viewer leaves (returns Ok), an error ends it (returns the
  // error: kAuthFailed or kPeerError for a failed or refused authentication, kConsentDenied,
  // kSessionIndicatorUnavailable, ...), or `*stop` becomes true (returns Ok after a
  // Goodbye).
  Status Run(const std::atomic<bool>& stop);

  // Valid after Run() returned.
  HostSessionStats stats() const;
  // True once the viewer passed authentication (and so the session counted as one).
  bool authenticated() const;
  // Remote control of this session: "Pause control" (SetPaused), input statistics.
  // Any thread.
  RemoteControlHost& remote_control() { return remote_control_; }

  // MessageChannel::Delegate implementation (network thread).
  void OnConnected(const wire::Hello& peer_hello) override;
  void OnMessage(const wire::Envelope& message) override;
  void OnClosed(const Error& reason) override;

 private:
  void ApplyAuthStep(const AuthStep& step);  // Network thread.
  // Consent and indicator. Sets `*indicator_shown` once the indicator is up.
  Error AuthorizeOnRunThread(const std::atomic<bool>& stop, bool* indicator_shown);
  void FinishSecurityBookkeeping(const Error& reason);
  void StartRemoteControl();  // Run()'s thread, when streaming starts.
  void StartClipboard();      // Part of StartRemoteControl().
  void ServeFileOffers();     // Run()'s thread: asks the UI about offered files.
  void CaptureLoop();
  void EncodeLoop(VideoCodec codec);
  void Fail(const Error& error);  // Any thread: ends the session with `error`.
  bool WaitForWindow();           // Encode thread: false when the session ends.
  // Capture thread: what the viewer was last told about the pointer.
  struct CursorSender {
    uint64_t serial = 0;
    bool position_known = false;
    int x = 0;
    int y = 0;
    bool visible = false;
  };
  // Capture thread: sends CursorShape / CursorPosition when they changed (control
  // priority: the pointer never waits behind video).
  void SendCursorUpdates(ScreenCapturer& capturer, CursorSender* sent);

  const HostOptions options_;
  HostSecurity* const security_;
  HostAuthenticator auth_;  // Network thread only.
  CapturerFactory capturer_factory_;
  RemoteControlHost remote_control_;
  // Created by StartRemoteControl() before streaming_ is set, destroyed after the
  // network thread ended; its thread sends ClipboardText on the channel.
  std::unique_ptr<Clipboard> clipboard_;
  std::unique_ptr<IncomingFiles> incoming_files_;  // Network thread + Run()'s thread.
  std::unique_ptr<MessageChannel> channel_;
  std::mutex files_mutex_;
  // Run()'s thread creates it; the network thread routes replies to it. Declared after
  // channel_: destroyed (its thread joined) before the channel.
  std::unique_ptr<OutgoingFile> outgoing_file_;  // Guarded by files_mutex_.
  LatestSlot<std::unique_ptr<Frame>> slot_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool connected_ = false;                // Guarded by mutex_.
  bool authenticated_ = false;            // Guarded by mutex_: auth_ succeeded.
  bool streaming_ = false;                // Guarded by mutex_: AuthResult was sent.
  bool ended_ = false;                    // Guarded by mutex_.
  Error end_reason_{ErrorCode::kOk, ""};  // Guarded by mutex_.
  wire::Hello peer_hello_;                // Guarded by mutex_.
  PeerInfo auth_peer_;                    // Guarded by mutex_: copy of auth_.peer().
  std::deque<uint64_t> in_flight_;        // Guarded by mutex_: frame ids sent, not acked.
  HostSessionStats stats_;                // Guarded by mutex_.
  RateController rate_;                   // Guarded by mutex_.
  std::atomic<bool> keyframe_requested_{false};
  std::atomic<bool> threads_stop_{false};
};

}  // namespace lifeline
