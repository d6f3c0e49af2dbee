#include "app/core/host_session.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "app/core/host_credentials.h"
#include "app/core/throttle.h"
#include "base/log.h"
#include "base/time.h"
#include "base/version.h"
#include "net/framing.h"
#include "net/video_chunks.h"

namespace lifeline {
namespace {

// REFRESH RULE
//   Real-time rate control keeps frames small while things move, which leaves text
//   blurry. Once the picture has been still (captured frames with an empty updated region)
//   for kRefreshAfterStillUs since the last change, the encoder sends one refresh frame at
//   a capped quantizer (VideoEncoder::EncodeRefresh): a delta frame that sharpens what is
//   on screen. One refresh per still period; the next change re-arms it. An idle screen
//   therefore costs one keyframe or change, one refresh, then nothing.
constexpr int64_t kRefreshAfterStillUs = 300'000;

// The lowest bitrate rate control goes to before it lowers the frame rate instead.
constexpr int kMinAdaptiveBitrateKbps = 150;

}  // namespace

HostSession::HostSession(HostOptions options,
                         HostSecurity* security,
                         SecureChannelInfo channel_info,
                         std::unique_ptr<Transport> transport,
                         CapturerFactory capturer_factory)
    : options_(std::move(options)),
      security_(security),
      auth_(security, std::move(channel_info)),
      capturer_factory_(std::move(capturer_factory)),
      remote_control_(options_.remote_control),
      slot_(MergeFrameDamage),
      rate_(RateControllerConfig{options_.bitrate_kbps,
                                 std::min(options_.bitrate_kbps, kMinAdaptiveBitrateKbps),
                                 options_.bitrate_kbps, options_.max_fps}) {
  ChannelOptions channel_options;
  channel_options.hello.set_role(wire::ROLE_HOST);
  channel_options.hello.set_app_version(kVersionString);
  channel_options.hello.set_device_id(security_->credentials->host_id());
  for (VideoCodec codec : kSupportedVideoCodecs) {
    channel_options.hello.add_video_codecs(static_cast<uint32_t>(codec));
  }
  channel_options.handshake_timeout_ms = options_.handshake_timeout_ms;
  channel_ = std::make_unique<MessageChannel>(std::move(transport), channel_options, this);

  incoming_files_ = MakeIncomingFiles(options_.receive_dir, "host",
                                      [this](const wire::Envelope& message, SendPriority priority) {
                                        return channel_->Send(message, priority) == SendResult::kOk;
                                      });
  incoming_files_->on_offer = [this] { cv_.notify_all(); };
}

HostSession::~HostSession() {
  channel_->Stop();
}

Status HostSession::Run(const std::atomic<bool>& stop) {
  log::Info("host: viewer connected from {}", channel_->peer_description());
  channel_->Start();

  // 1. Hello and authentication (network thread), within the time limit.
  const auto auth_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(security_->auth_timeout_ms);
  {
    std::unique_lock lock(mutex_);
    while (!authenticated_ && !ended_ && !stop.load()) {
      if (std::chrono::steady_clock::now() >= auth_deadline) {
        ended_ = true;
        end_reason_ = Error{ErrorCode::kAuthFailed, "authentication timed out"};
        break;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  // 2. Consent and the "session active" indicator (this thread), then AuthResult.
  bool indicator_shown = false;
  if (authenticated() && !stop.load()) {
    Error refusal = AuthorizeOnRunThread(stop, &indicator_shown);
    if (refusal.code != ErrorCode::kOk)
      Fail(refusal);
  }
  VideoCodec codec = options_.preferred_codec;
  {
    std::lock_guard lock(mutex_);
    if (streaming_ && !ended_) {
      const std::vector<uint32_t> peer_codecs(peer_hello_.video_codecs().begin(),
                                              peer_hello_.video_codecs().end());
      auto negotiated =
          NegotiateVideoCodec(peer_codecs, options_.preferred_codec, options_.forced_codec);
      if (negotiated.ok()) {
        codec = *negotiated;
      } else {
        ended_ = true;
        end_reason_ = negotiated.error();
      }
    }
  }

  // 2. Stream until the session ends.
  std::thread capture_thread;
  std::thread encode_thread;
  bool streaming = false;
  {
    std::lock_guard lock(mutex_);
    streaming = streaming_ && !ended_;
  }
  if (streaming && !stop.load()) {
    log::Info("host: streaming {} at up to {} fps, {} kbit/s, window {} frames", ToString(codec),
              options_.max_fps, options_.bitrate_kbps, options_.max_frames_in_flight);
    capture_thread = std::thread([this] { CaptureLoop(); });
    encode_thread = std::thread([this, codec] { EncodeLoop(codec); });
    if (!options_.send_path.empty()) {
      std::lock_guard lock(files_mutex_);
      outgoing_file_ = std::make_unique<OutgoingFile>(
          options_.send_path, 1, [this](const wire::Envelope& message, SendPriority priority) {
            return channel_->Send(message, priority) == SendResult::kOk;
          });
      outgoing_file_->Start();
      log::Info("files: offering {} to the viewer", options_.send_path);
    }
  }
  bool file_reported = false;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (ended_ || stop.load())
        break;
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (ended_ || stop.load())
        break;
    }
    ServeFileOffers();  // Blocks while the person at the host decides; fine here.
    std::lock_guard lock(files_mutex_);
    if (outgoing_file_ && !file_reported) {
      if (auto outcome = outgoing_file_->Wait(0)) {
        file_reported = true;
        if (outcome->status.ok())
          log::Info("files: sent {}: the viewer verified it (SHA-256)", options_.send_path);
        else
          log::Warning("files: {} not sent: {}", options_.send_path, outcome->status.ToString());
      }
    }
  }
  {
    std::lock_guard lock(files_mutex_);
    if (outgoing_file_)
      outgoing_file_->Cancel(Status(ErrorCode::kConnectionClosed, "the session ended"));
  }

  // 3. Tear down: stop our threads first, then close the channel politely.
  threads_stop_ = true;
  slot_.Close();
  cv_.notify_all();
  if (capture_thread.joinable())
    capture_thread.join();
  if (encode_thread.joinable())
    encode_thread.join();

  Error reason;
  {
    std::lock_guard lock(mutex_);
    reason = ended_ ? end_reason_ : Error{ErrorCode::kOk, ""};
    stats_.bytes_sent = channel_->bytes_sent();
    stats_.frames_dropped_unencoded = slot_.replaced_count();
  }
  channel_->Close(reason.code == ErrorCode::kConnectionClosed ? Error{ErrorCode::kOk, ""} : reason);
  channel_->WaitClosed(2000);
  channel_->Stop();
  remote_control_.DetachInjector();  // Nothing stays pressed on the host.
  clipboard_.reset();
  if (indicator_shown)
    security_->ui->HideSessionIndicator();
  FinishSecurityBookkeeping(reason);
  if (reason.code == ErrorCode::kOk || reason.code == ErrorCode::kConnectionClosed) {
    log::Info("host: session ended ({})",
              reason.code == ErrorCode::kOk ? "stopped" : "viewer left");
    return Status::Ok();
  }
  log::Warning("host: session ended: {}", reason.ToString());
  return Status(reason);
}

void HostSession::StartRemoteControl() {
  StartClipboard();
  if (remote_control_.control_mode() == ControlMode::kViewOnly) {
    log::Info("host: view-only session: the viewer's input is blocked");
    remote_control_.AttachInjector(nullptr);
    return;
  }
  auto injector = options_.input_injector_factory(options_.capture);
  if (!injector.ok()) {
    if (injector.error().code == ErrorCode::kInputUnavailable)
      log::Info("host: no remote control in this session: {}", injector.error().ToString());
    else
      log::Warning("host: remote control unavailable, the session is view-only: {}",
                   injector.error().ToString());
    remote_control_.AttachInjector(nullptr);
    return;
  }
  remote_control_.AttachInjector(std::move(injector).value());
}

void HostSession::ServeFileOffers() {
  bool exists = false;
  int64_t resume_from = -1;
  auto offer = incoming_files_->TakePendingOffer(&exists, &resume_from);
  if (!offer)
    return;
  FileDecision decision = FileDecision::kDecline;
  if (ValidateTransferName(offer->name()).ok()) {
    PeerInfo peer;
    {
      std::lock_guard lock(mutex_);
      peer = auth_peer_;
    }
    FileTransferRequest request{offer->name(), offer->size(), exists, resume_from};
    decision = security_->ui->ConfirmFileTransfer(peer, request, options_.file_confirm_timeout_ms);
    if (decision == FileDecision::kAcceptReplace && !exists)
      decision = FileDecision::kAccept;
  }
  incoming_files_->Answer(*offer, decision);  // An unsafe name is refused with its reason.
}

void HostSession::StartClipboard() {
  const ClipboardMode mode = remote_control_.clipboard_mode();
  if (mode == ClipboardMode::kOff)
    return;
  auto clipboard = options_.clipboard_factory(options_.capture, kMaxClipboardBytes);
  if (!clipboard.ok()) {
    // No clipboard on this source (synthetic) is expected; anything else is worth a warning.
    if (clipboard.error().code == ErrorCode::kClipboardUnavailable)
      log::Info("host: no clipboard sharing in this session: {}", clipboard.error().ToString());
    else
      log::Warning("host: no clipboard sharing in this session: {}", clipboard.error().ToString());
    return;
  }
  const bool to_viewer = mode == ClipboardMode::kBoth || mode == ClipboardMode::kHostToViewer;
  Status started = (*clipboard)->Start([this, to_viewer](const std::string& text) {
    if (!to_viewer)
      return;
    wire::Envelope message;
    message.mutable_clipboard_text()->set_text(text);
    channel_->Send(message, SendPriority::kControl);
  });
  if (!started.ok()) {
    log::Warning("host: no clipboard sharing in this session: {}", started.ToString());
    return;
  }
  clipboard_ = std::move(clipboard).value();
  Clipboard* raw = clipboard_.get();
  remote_control_.on_clipboard_from_viewer = [raw](const std::string& text) {
    if (Status st = raw->SetText(text); !st.ok())
      log::Info("host: clipboard text from the viewer not used: {}", st.ToString());
  };
}

bool HostSession::authenticated() const {
  std::lock_guard lock(mutex_);
  return authenticated_;
}

Error HostSession::AuthorizeOnRunThread(const std::atomic<bool>& stop, bool* indicator_shown) {
  PeerInfo peer;
  {
    std::lock_guard lock(mutex_);
    peer = auth_peer_;
  }
  if (security_->require_consent) {
    const ConsentDecision decision =
        security_->ui->RequestConsent(peer, security_->consent_timeout_ms);
    if (decision != ConsentDecision::kAccepted || stop.load()) {
      RecordAudit(*security_, AuditEventType::kConsentDenied, peer,
                  decision == ConsentDecision::kTimedOut ? "no answer in time" : "denied");
      return Error{ErrorCode::kConsentDenied,
                   decision == ConsentDecision::kTimedOut
                       ? "the person at the host did not answer in time"
                       : "the person at the host declined the connection"};
    }
  }
  // Fail closed: no indicator, no session.
  if (!security_->ui->ShowSessionIndicator(peer)) {
    return Error{ErrorCode::kSessionIndicatorUnavailable,
                 "the host cannot show that a session is active, so it refuses the session"};
  }
  *indicator_shown = true;  // From here on it must be hidden again, whatever happens.
  // Input goes somewhere only from now on (authenticated, consented, visible), and is
  // ready before the viewer learns it may send.
  StartRemoteControl();
  {
    std::lock_guard lock(mutex_);
    if (ended_)
      return end_reason_;
    streaming_ = true;
  }
  wire::Envelope result;
  result.mutable_auth_result()->set_accepted(true);
  channel_->Send(result, SendPriority::kControl);
  RecordAudit(*security_, AuditEventType::kSessionStarted, peer, "");
  return Error{ErrorCode::kOk, ""};
}

void HostSession::FinishSecurityBookkeeping(const Error& reason) {
  PeerInfo peer;
  bool was_streaming = false;
  bool was_authenticated = false;
  {
    std::lock_guard lock(mutex_);
    peer = auth_peer_;
    was_streaming = streaming_;
    was_authenticated = authenticated_;
  }
  if (was_streaming) {
    RecordAudit(*security_, AuditEventType::kSessionEnded, peer,
                reason.code == ErrorCode::kOk                 ? "stopped on the host"
                : reason.code == ErrorCode::kConnectionClosed ? "viewer left"
                                                              : reason.ToString());
  }
  if (!was_streaming && auth_.attempt_counted() &&
      auth_.state() != HostAuthenticator::State::kAuthenticated &&
      auth_.state() != HostAuthenticator::State::kFailed) {
    // The viewer hung up during the exchange: after a wrong password it learns that from
    // our confirmation and leaves. The attempt was counted when our share went out.
    RecordAudit(*security_, AuditEventType::kAuthFailed, peer,
                "the viewer left during authentication (" + reason.ToString() + ")");
  }
  // A new one-time password after every session, and after too many failures.
  // A viewer that proved the password has used it up, even if the session was then
  // declined or refused.
  bool after_failures = false;
  bool rotate = was_authenticated;
  if (security_->throttle->ShouldRotatePassword()) {
    rotate = true;
    after_failures = true;
  }
  if (!rotate)
    return;
  if (Status st = security_->credentials->Rotate(); !st.ok()) {
    log::Error("host: could not create a new one-time password: {}", st.ToString());
    return;
  }
  if (after_failures) {
    if (Status st = security_->throttle->PasswordRotated(); !st.ok()) {
      log::Error("host: {}", st.ToString());
    }
    RecordAudit(*security_, AuditEventType::kPasswordRotated, peer, "after repeated failures");
  }
  security_->ui->OnPasswordChanged(security_->credentials->display_password(), after_failures);
}

HostSessionStats HostSession::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void HostSession::Fail(const Error& error) {
  {
    std::lock_guard lock(mutex_);
    if (ended_)
      return;
    ended_ = true;
    end_reason_ = error;
  }
  cv_.notify_all();
}

void HostSession::CaptureLoop() {
  auto capturer = capturer_factory_(options_.capture);
  if (!capturer.ok()) {
    Fail(capturer.error());
    return;
  }
  log::Info("host: capturing with {} at {}x{}", (*capturer)->name(),
            (*capturer)->screen_size().width, (*capturer)->screen_size().height);
  const auto period = std::chrono::microseconds(1'000'000 / std::max(1, options_.max_fps));
  auto next_tick = std::chrono::steady_clock::now();
  int temporary_errors = 0;
  // An event-driven capturer (X11 DAMAGE) sleeps here until the screen changes: an idle
  // screen costs no capture, conversion or encoding. The timeout bounds how long a stop
  // request waits and how often the pointer is read (one XQueryPointer round trip, about
  // 30 us: 0.1% of a core). Others capture every tick.
  constexpr int kWaitForChangeMs = 33;
  const bool event_driven = (*capturer)->event_driven();
  CursorSender cursor_sender;
  while (!threads_stop_.load()) {
    const bool changed = !event_driven || (*capturer)->WaitForChange(kWaitForChangeMs);
    SendCursorUpdates(**capturer, &cursor_sender);
    if (!changed)
      continue;
    std::unique_ptr<Frame> frame;
    switch ((*capturer)->CaptureFrame(&frame)) {
      case CaptureResult::kSuccess: {
        temporary_errors = 0;
        {
          std::lock_guard lock(mutex_);
          ++stats_.frames_captured;
        }
        remote_control_.SetCapturedArea(Rect::FromSize(frame->size()));
        slot_.Put(std::move(frame));
        break;
      }
      case CaptureResult::kTemporaryError:
        // A resize in progress or a busy server: try again next tick, but not forever.
        if (++temporary_errors > 10 * options_.max_fps) {
          Fail(Error{ErrorCode::kCaptureFailed, "screen capture kept failing for 10 seconds"});
          return;
        }
        break;
      case CaptureResult::kPermanentError:
        Fail(Error{ErrorCode::kCaptureFailed, std::string("screen capture stopped working (") +
                                                  std::string((*capturer)->name()) + ")"});
        return;
    }
    next_tick += period;
    const auto now = std::chrono::steady_clock::now();
    if (next_tick < now)
      next_tick = now;  // Running late: do not try to catch up.
    std::this_thread::sleep_until(next_tick);
  }
}

void HostSession::SendCursorUpdates(ScreenCapturer& capturer, CursorSender* sent) {
  CursorState state;
  if (!capturer.CaptureCursor(&state))
    return;
  if (state.shape_changed && state.shape.serial != sent->serial) {
    sent->serial = state.shape.serial;
    wire::Envelope message;
    wire::CursorShape* shape = message.mutable_cursor_shape();
    shape->set_serial(static_cast<uint32_t>(state.shape.serial));
    shape->set_width(static_cast<uint32_t>(state.shape.size.width));
    shape->set_height(static_cast<uint32_t>(state.shape.size.height));
    shape->set_hotspot_x(static_cast<uint32_t>(state.shape.hotspot_x));
    shape->set_hotspot_y(static_cast<uint32_t>(state.shape.hotspot_y));
    shape->set_rgba(state.shape.rgba.data(), state.shape.rgba.size());
    channel_->Send(message, SendPriority::kControl);
  }
  if (!sent->position_known || state.x != sent->x || state.y != sent->y ||
      state.visible != sent->visible) {
    sent->position_known = true;
    sent->x = state.x;
    sent->y = state.y;
    sent->visible = state.visible;
    wire::Envelope message;
    message.mutable_cursor_position()->set_x(state.x);
    message.mutable_cursor_position()->set_y(state.y);
    message.mutable_cursor_position()->set_visible(state.visible);
    channel_->Send(message, SendPriority::kControl);
  }
}

bool HostSession::WaitForWindow() {
  std::unique_lock lock(mutex_);
  while (!ended_ && !threads_stop_.load() &&
         in_flight_.size() >= static_cast<size_t>(options_.max_frames_in_flight)) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
  return !ended_ && !threads_stop_.load();
}

void HostSession::EncodeLoop(VideoCodec codec) {
  EncoderConfig config;
  config.codec = codec;
  config.target_bitrate_kbps = options_.bitrate_kbps;
  config.max_fps = options_.max_fps;
  auto encoder = CreateVideoEncoder(config);
  if (!encoder.ok()) {
    Fail(encoder.error());
    return;
  }
  uint64_t next_frame_id = 1;
  int64_t last_change_us = 0;
  bool refresh_armed = false;
  // The last frame encoded: an event-driven capturer sends nothing while the screen is
  // still, so refreshes and keyframe requests re-encode these pixels.
  std::unique_ptr<Frame> last_frame;
  constexpr auto kIdleWakeup = std::chrono::milliseconds(50);
  int current_bitrate_kbps = options_.bitrate_kbps;
  int64_t last_encode_us = 0;
  while (true) {
    const int64_t wait_start_us = MonotonicNowUs();
    if (!WaitForWindow())
      break;
    const int64_t waited_for_window_us = MonotonicNowUs() - wait_start_us;
    // Rate control (rate_controller.h): follow its bitrate, and its frame rate by leaving
    // frames in the slot (they merge there) until the frame interval has passed.
    int target_fps = options_.max_fps;
    {
      std::lock_guard lock(mutex_);
      target_fps = rate_.target_fps();
      if (rate_.target_bitrate_kbps() != current_bitrate_kbps) {
        current_bitrate_kbps = rate_.target_bitrate_kbps();
        (*encoder)->SetTargetBitrate(current_bitrate_kbps);
      }
    }
    if (target_fps < options_.max_fps) {
      const int64_t due_us = last_encode_us + 1'000'000 / std::max(1, target_fps);
      const int64_t now_us = MonotonicNowUs();
      if (now_us < due_us) {
        std::this_thread::sleep_for(
            std::chrono::microseconds(std::min<int64_t>(due_us - now_us, 100'000)));
        continue;
      }
    }
    auto taken = slot_.WaitAndTake(kIdleWakeup);
    std::unique_ptr<Frame> frame;
    if (taken && *taken) {
      frame = std::move(*taken);
    } else {
      const bool refresh_due =
          refresh_armed && MonotonicNowUs() - last_change_us >= kRefreshAfterStillUs;
      if (!last_frame || (!refresh_due && !keyframe_requested_.load()))
        continue;
      frame = std::move(last_frame);
      frame->mutable_updated_region()->Clear();  // The same pixels again, shown now.
      frame->set_capture_time_us(MonotonicNowUs());
    }
    const bool force_keyframe = keyframe_requested_.exchange(false);
    const bool changed = !frame->updated_region().empty();
    if (changed) {
      last_change_us = frame->capture_time_us();
      refresh_armed = true;
    }
    const bool refresh = !changed && !force_keyframe && refresh_armed &&
                         MonotonicNowUs() - last_change_us >= kRefreshAfterStillUs;
    EncodedFrame encoded;
    const EncodeResult result = refresh ? (*encoder)->EncodeRefresh(*frame, &encoded)
                                        : (*encoder)->Encode(*frame, force_keyframe, &encoded);
    const int64_t frame_capture_time_us = frame->capture_time_us();
    last_frame = std::move(frame);
    if (refresh && result == EncodeResult::kOk) {
      refresh_armed = false;
      std::lock_guard lock(mutex_);
      ++stats_.refreshes;
    }
    switch (result) {
      case EncodeResult::kSkipped: {
        std::lock_guard lock(mutex_);
        ++stats_.frames_skipped;
        continue;
      }
      case EncodeResult::kError:
        Fail(Error{ErrorCode::kEncodeFailed, "the video encoder failed"});
        return;
      case EncodeResult::kOk:
        break;
    }
    encoded.frame_id = next_frame_id++;
    encoded.capture_time_us = frame_capture_time_us;

    wire::VideoFrameInfo info;
    info.set_codec(static_cast<uint32_t>(encoded.codec));
    info.set_width(static_cast<uint32_t>(encoded.size.width));
    info.set_height(static_cast<uint32_t>(encoded.size.height));
    info.set_keyframe(encoded.keyframe);
    info.set_capture_time_us(encoded.capture_time_us);
    last_encode_us = MonotonicNowUs();
    {
      std::lock_guard lock(mutex_);
      in_flight_.push_back(encoded.frame_id);
      rate_.OnFrameSent(encoded.frame_id, static_cast<int64_t>(encoded.data.size()), last_encode_us,
                        waited_for_window_us);
      stats_.target_bitrate_kbps = rate_.target_bitrate_kbps();
      stats_.target_fps = rate_.target_fps();
      ++stats_.frames_encoded;
      if (encoded.keyframe)
        ++stats_.keyframes;
      stats_.max_in_flight_seen =
          std::max(stats_.max_in_flight_seen, static_cast<int>(in_flight_.size()));
    }
    for (const wire::Envelope& chunk : SplitIntoChunks(encoded.frame_id, info, encoded.data)) {
      if (channel_->Send(chunk, SendPriority::kVideo) != SendResult::kOk) {
        // The channel closed (OnClosed ends the session) or its queue is full, which the
        // window makes impossible unless the peer stopped reading: either way the session
        // is over; the frame is not silently lost.
        Fail(Error{ErrorCode::kSendQueueFull, "could not queue video for the viewer"});
        return;
      }
    }
  }
}

void HostSession::ApplyAuthStep(const AuthStep& step) {
  for (const wire::Envelope& message : step.to_send)
    channel_->Send(message, SendPriority::kControl);
  {
    std::lock_guard lock(mutex_);
    auth_peer_ = auth_.peer();
    if (auth_.state() == HostAuthenticator::State::kAuthenticated)
      authenticated_ = true;
  }
  if (step.close)
    channel_->Close(*step.close);
  cv_.notify_all();
}

void HostSession::OnConnected(const wire::Hello& peer_hello) {
  {
    std::lock_guard lock(mutex_);
    connected_ = true;
    peer_hello_ = peer_hello;
  }
  log::Info("host: viewer {} (app {}) speaks protocol {}", peer_hello.device_id(),
            peer_hello.app_version(), peer_hello.protocol_version());
  ApplyAuthStep(auth_.OnHello(peer_hello));
}

void HostSession::OnMessage(const wire::Envelope& message) {
  bool streaming = false;
  bool authenticated = false;
  {
    std::lock_guard lock(mutex_);
    streaming = streaming_;
    authenticated = authenticated_;
  }
  if (!authenticated) {
    ApplyAuthStep(auth_.OnMessage(message));
    return;
  }
  if (!streaming) {
    // Between authentication and AuthResult the viewer has nothing to say.
    channel_->Close(Error{
        ErrorCode::kUnexpectedMessage,
        "message type " + std::to_string(message.payload_case()) + " before the session started"});
    return;
  }
  switch (message.payload_case()) {
    case wire::Envelope::kFrameAck: {
      bool ok = false;
      {
        std::lock_guard lock(mutex_);
        // Acks come in order; an ack for a frame we did not send is a protocol error.
        if (!in_flight_.empty() && in_flight_.front() == message.frame_ack().frame_id()) {
          in_flight_.pop_front();
          rate_.OnFrameAcked(message.frame_ack().frame_id(), MonotonicNowUs());
          ok = true;
        }
      }
      if (!ok) {
        channel_->Close(Error{ErrorCode::kUnexpectedMessage,
                              "acknowledgement for frame " +
                                  std::to_string(message.frame_ack().frame_id()) +
                                  " that is not the oldest in flight"});
        return;
      }
      cv_.notify_all();
      return;
    }
    case wire::Envelope::kKeyframeRequest:
      keyframe_requested_ = true;
      return;
    case wire::Envelope::kPing: {
      channel_->Send(MakePong(message.ping(), MonotonicNowUs()), SendPriority::kControl);
      return;
    }
    case wire::Envelope::kPong:
      return;  // We do not ping; ignore.
    default:
      if (OutgoingFile::Handles(message)) {
        std::lock_guard lock(files_mutex_);
        Status st = RouteToOutgoingFile(outgoing_file_.get(), message);
        if (!st.ok())
          channel_->Close(st.error());
        return;
      }
      if (IncomingFiles::Handles(message)) {
        if (Status st = incoming_files_->HandleMessage(message); !st.ok())
          channel_->Close(st.error());
        return;
      }
      if (RemoteControlHost::Handles(message)) {
        if (Status st = remote_control_.HandleMessage(message); !st.ok())
          channel_->Close(st.error());
        return;
      }
      channel_->Close(Error{ErrorCode::kUnexpectedMessage,
                            "message type " + std::to_string(message.payload_case()) +
                                " is not valid from a viewer"});
      return;
  }
}

void HostSession::OnClosed(const Error& reason) {
  Fail(reason.code == ErrorCode::kOk ? Error{ErrorCode::kConnectionClosed, ""} : reason);
}

}  // namespace lifeline
