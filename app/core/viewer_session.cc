#include "app/core/viewer_session.h"

#include "app/core/remote_control_host.h"

#include <openssl/crypto.h>

#include <chrono>

#include "base/log.h"
#include "base/time.h"
#include "base/version.h"

namespace lifeline {
namespace {

constexpr auto& kDecodableCodecs = kSupportedVideoCodecs;
constexpr int64_t kStatsIntervalUs = 1'000'000;
constexpr int64_t kPingIntervalUs = 500'000;

bool IsDecodable(uint32_t codec) {
  for (VideoCodec c : kDecodableCodecs) {
    if (static_cast<uint32_t>(c) == codec)
      return true;
  }
  return false;
}

}  // namespace

ViewerSession::ViewerSession(ViewerOptions options,
                             SecureChannelInfo channel_info,
                             std::unique_ptr<Transport> transport)
    : options_(std::move(options)),
      auth_(options_.own_device_id,
            options_.password,
            channel_info.channel_binding,
            options_.totp_code),
      remote_control_([this](const wire::Envelope& message) {
        // Nothing of ours before the host accepted us, nothing after the end.
        return authenticated() && !closed() &&
               channel_->Send(message, SendPriority::kControl) == SendResult::kOk;
      }) {
  OPENSSL_cleanse(options_.password.data(), options_.password.size());
  options_.password.clear();
  ChannelOptions channel_options;
  channel_options.hello.set_role(wire::ROLE_VIEWER);
  channel_options.hello.set_app_version(kVersionString);
  channel_options.hello.set_device_id(options_.own_device_id);
  for (VideoCodec codec : kDecodableCodecs) {
    channel_options.hello.add_video_codecs(static_cast<uint32_t>(codec));
  }
  channel_options.handshake_timeout_ms = options_.handshake_timeout_ms;
  channel_options.protocol_version = options_.protocol_version;
  channel_options.min_protocol_version = options_.min_protocol_version;
  channel_ = std::make_unique<MessageChannel>(std::move(transport), channel_options, this);
  incoming_files_ = MakeIncomingFiles(
      options_.receive_dir, "viewer", [this](const wire::Envelope& message, SendPriority priority) {
        return authenticated() && !closed() && channel_->Send(message, priority) == SendResult::kOk;
      });
  incoming_files_->on_offer = [this] {
    bool exists = false;
    int64_t resume_from = -1;
    if (auto offer = incoming_files_->TakePendingOffer(&exists, &resume_from))
      incoming_files_->Answer(*offer, FileDecision::kAccept);  // Never replaces a file.
  };
}

ViewerSession::~ViewerSession() {
  Stop();
}

Status ViewerSession::Start() {
  if (!options_.stats_path.empty()) {
    stats_file_ = std::fopen(options_.stats_path.c_str(), "w");
    if (!stats_file_) {
      return Status(ErrorCode::kFileIo, "cannot write stats file " + options_.stats_path);
    }
  }
  started_ = true;
  channel_->Start();
  decode_thread_ = std::thread([this] { DecodeLoop(); });
  return Status::Ok();
}

void ViewerSession::Stop() {
  if (!started_)
    return;
  if (!stopping_.exchange(true)) {
    channel_->Close(Error{ErrorCode::kOk, ""});
    channel_->WaitClosed(2000);
    channel_->Stop();
    decode_queue_.Close();
    if (decode_thread_.joinable())
      decode_thread_.join();
    frames_.Close();
    if (stats_file_) {
      std::fclose(stats_file_);
      stats_file_ = nullptr;
    }
  }
}

bool ViewerSession::WaitClosed(int timeout_ms) {
  std::unique_lock lock(mutex_);
  return closed_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return closed_; });
}

bool ViewerSession::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

Error ViewerSession::close_reason() const {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

bool ViewerSession::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

RemoteCursor ViewerSession::cursor() const {
  std::lock_guard lock(mutex_);
  return cursor_;
}

std::shared_ptr<const DecodedFrame> ViewerSession::last_frame() const {
  std::lock_guard lock(mutex_);
  return last_frame_;
}

void ViewerSession::set_frame_callback(std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  frame_callback_ = std::move(callback);
}

bool ViewerSession::authenticated() const {
  std::lock_guard lock(mutex_);
  return authenticated_;
}

std::string ViewerSession::host_id() const {
  std::lock_guard lock(mutex_);
  return host_id_;
}

void ViewerSession::ApplyAuthStep(const AuthStep& step) {
  for (const wire::Envelope& message : step.to_send)
    channel_->Send(message, SendPriority::kControl);
  bool now_authenticated = false;
  {
    std::lock_guard lock(mutex_);
    host_id_ = auth_.host_id();
    if (!authenticated_ && auth_.state() == ViewerAuthenticator::State::kAuthenticated) {
      authenticated_ = true;
      now_authenticated = true;
    }
  }
  if (step.close) {
    channel_->Close(*step.close);
    return;
  }
  if (now_authenticated) {
    log::Info("viewer: host {} accepted the session", auth_.host_id());
    SendPing();
  }
}

void ViewerSession::OnConnected(const wire::Hello& peer_hello) {
  {
    std::lock_guard lock(mutex_);
    connected_ = true;
  }
  log::Info("viewer: connected to host {} at {} ({})", peer_hello.device_id(),
            channel_->peer_description(), peer_hello.app_version());
  ApplyAuthStep(auth_.OnHello(peer_hello));
}

void ViewerSession::OnMessage(const wire::Envelope& message) {
  if (!authenticated()) {
    // Nothing from the host counts until it proved the password and accepted us.
    ApplyAuthStep(auth_.OnMessage(message));
    return;
  }
  switch (message.payload_case()) {
    case wire::Envelope::kVideoChunk: {
      auto result = assembler_.Add(message.video_chunk());
      if (!result.ok()) {
        channel_->Close(result.error());
        return;
      }
      if (!result->has_value())
        return;
      AssembledFrame frame = std::move(**result);
      if (!IsDecodable(frame.info.codec())) {
        channel_->Close(Error{ErrorCode::kCodecUnsupported,
                              "the host sent codec " + std::to_string(frame.info.codec()) +
                                  ", which this viewer did not offer"});
        return;
      }
      if (!decode_queue_.TryPush(std::move(frame))) {
        if (!decode_queue_.closed()) {
          channel_->Close(Error{ErrorCode::kUnexpectedMessage,
                                "the host sent more frames than its window allows"});
        }
      }
      return;
    }
    case wire::Envelope::kCursorShape: {
      const wire::CursorShape& in = message.cursor_shape();
      const uint32_t width = in.width();
      const uint32_t height = in.height();
      if (width == 0 || height == 0 || width > kMaxCursorSidePx || height > kMaxCursorSidePx ||
          in.hotspot_x() >= width || in.hotspot_y() >= height ||
          in.rgba().size() != size_t{width} * height * 4) {
        channel_->Close(Error{ErrorCode::kCursorShapeInvalid,
                              "the host sent a cursor of " + std::to_string(width) + "x" +
                                  std::to_string(height) + " with " +
                                  std::to_string(in.rgba().size()) + " bytes of pixels"});
        return;
      }
      auto shape = std::make_shared<CursorShape>();
      shape->serial = in.serial();
      shape->size = Size{static_cast<int>(width), static_cast<int>(height)};
      shape->hotspot_x = static_cast<int>(in.hotspot_x());
      shape->hotspot_y = static_cast<int>(in.hotspot_y());
      shape->rgba.assign(in.rgba().begin(), in.rgba().end());
      std::lock_guard lock(mutex_);
      cursor_.shape = std::move(shape);
      ++cursor_.shape_updates;
      return;
    }
    case wire::Envelope::kCursorPosition: {
      std::lock_guard lock(mutex_);
      cursor_.x = message.cursor_position().x();
      cursor_.y = message.cursor_position().y();
      cursor_.visible = message.cursor_position().visible();
      return;
    }
    case wire::Envelope::kPong: {
      const int64_t now = MonotonicNowUs();
      clock_sync_.AddSample(message.pong().echo_time_us(), message.pong().responder_time_us(), now);
      stats_.SetRttUs(clock_sync_.last_rtt_us());
      return;
    }
    case wire::Envelope::kPing: {
      channel_->Send(MakePong(message.ping(), MonotonicNowUs()), SendPriority::kControl);
      return;
    }
    case wire::Envelope::kFileAnswer:
    case wire::Envelope::kFileProgress:
    case wire::Envelope::kFileResult: {
      std::lock_guard lock(files_mutex_);
      Status st = RouteToOutgoingFile(outgoing_file_.get(), message);
      if (!st.ok())
        channel_->Close(st.error());
      return;
    }
    case wire::Envelope::kFileOffer:
    case wire::Envelope::kFileChunk:
      if (Status st = incoming_files_->HandleMessage(message); !st.ok())
        channel_->Close(st.error());
      return;
    case wire::Envelope::kClipboardText: {
      if (Status st = ValidateClipboardText(message.clipboard_text()); !st.ok()) {
        channel_->Close(st.error());
        return;
      }
      remote_control_.OnClipboardFromHost(message.clipboard_text().text());
      return;
    }
    default:
      channel_->Close(Error{
          ErrorCode::kUnexpectedMessage,
          "message type " + std::to_string(message.payload_case()) + " is not valid from a host"});
      return;
  }
}

OutgoingFile* ViewerSession::SendFile(const std::string& path,
                                      std::function<void(uint64_t, uint64_t)> on_progress) {
  std::lock_guard lock(files_mutex_);
  outgoing_file_ = std::make_unique<OutgoingFile>(
      path, next_transfer_id_++, [this](const wire::Envelope& message, SendPriority priority) {
        return authenticated() && !closed() && channel_->Send(message, priority) == SendResult::kOk;
      });
  outgoing_file_->on_progress = std::move(on_progress);
  outgoing_file_->Start();
  return outgoing_file_.get();
}

void ViewerSession::OnClosed(const Error& reason) {
  {
    std::lock_guard lock(files_mutex_);
    if (outgoing_file_) {
      outgoing_file_->Cancel(Status(ErrorCode::kConnectionClosed,
                                    "the session ended during the transfer (it resumes when "
                                    "sent again)"));
    }
  }
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    close_reason_ =
        reason.code == ErrorCode::kOk ? Error{ErrorCode::kConnectionClosed, ""} : reason;
  }
  if (reason.code != ErrorCode::kOk && reason.code != ErrorCode::kConnectionClosed &&
      reason.code != ErrorCode::kCancelled) {
    log::Warning("viewer: session ended: {}", reason.ToString());
  }
  decode_queue_.Close();
  closed_cv_.notify_all();
}

void ViewerSession::SendPing() {
  wire::Envelope ping;
  ping.mutable_ping()->set_id(next_ping_id_++);
  ping.mutable_ping()->set_sender_time_us(MonotonicNowUs());
  channel_->Send(ping, SendPriority::kControl);
}

void ViewerSession::DecodeLoop() {
  int64_t last_ping_us = MonotonicNowUs();
  while (!stopping_.load()) {
    auto frame = decode_queue_.WaitPop(std::chrono::milliseconds(50));
    if (frame)
      DecodeOne(std::move(*frame));
    if (decode_queue_.closed() && decode_queue_.size() == 0 && !frame) {
      // Closed: keep the loop only for a final stats line.
      StatsSnapshot snapshot;
      if (stats_file_ && stats_.MaybeCloseInterval(1, &snapshot)) {
        std::fprintf(stats_file_, "%s\n", ToJsonLine(snapshot).c_str());
        std::fflush(stats_file_);
      }
      return;
    }
    const int64_t now = MonotonicNowUs();
    if (authenticated() && now - last_ping_us >= kPingIntervalUs) {
      last_ping_us = now;
      SendPing();
    }
    StatsSnapshot snapshot;
    if (stats_.MaybeCloseInterval(kStatsIntervalUs, &snapshot)) {
      if (stats_file_) {
        std::fprintf(stats_file_, "%s\n", ToJsonLine(snapshot).c_str());
        std::fflush(stats_file_);
      }
    }
  }
}

void ViewerSession::DecodeOne(AssembledFrame frame) {
  const auto codec = static_cast<VideoCodec>(frame.info.codec());
  if (!decoder_ || decoder_->codec() != codec) {
    auto decoder = CreateVideoDecoder(codec);
    if (!decoder.ok()) {
      channel_->Close(decoder.error());
      return;
    }
    decoder_ = std::move(decoder).value();
  }
  auto decoded = std::make_shared<DecodedFrame>();
  decoded->codec = codec;
  // A picture must have the size the host announced for it (security requirement 22);
  // announced sizes beyond kMaxVideoDimension are refused before decoding.
  const Size announced{static_cast<int>(std::min<uint32_t>(frame.info.width(), INT32_MAX)),
                       static_cast<int>(std::min<uint32_t>(frame.info.height(), INT32_MAX))};
  DecodeResult result = DecodeResult::kNeedKeyframe;
  if (!announced.empty() && announced.width <= kMaxVideoDimension &&
      announced.height <= kMaxVideoDimension) {
    result = decoder_->Decode(frame.data, &decoded->image);
    if (result == DecodeResult::kOk)
      result = FitDecodedToAnnouncedSize(announced, &decoded->image);
  }
  wire::Envelope ack;
  ack.mutable_frame_ack()->set_frame_id(frame.frame_id);
  switch (result) {
    case DecodeResult::kOk: {
      waiting_for_keyframe_ = false;
      last_good_frame_id_ = frame.frame_id;
      decoded->frame_id = frame.frame_id;
      decoded->capture_time_us = frame.info.capture_time_us();
      decoded->decoded_time_us = MonotonicNowUs();
      const int64_t latency_us =
          clock_sync_.has_estimate()
              ? decoded->decoded_time_us - clock_sync_.HostToViewerUs(decoded->capture_time_us)
              : -1;
      stats_.OnFrameDecoded(frame.data.size(), latency_us, decoded->image.size.width,
                            decoded->image.size.height);
      ack.mutable_frame_ack()->set_decoded(true);
      channel_->Send(ack, SendPriority::kControl);
      std::function<void()> callback;
      {
        std::lock_guard lock(mutex_);
        last_frame_ = decoded;
        callback = frame_callback_;
      }
      frames_.Put(decoded);
      if (callback)
        callback();
      return;
    }
    case DecodeResult::kNeedKeyframe: {
      ack.mutable_frame_ack()->set_decoded(false);
      channel_->Send(ack, SendPriority::kControl);
      if (!waiting_for_keyframe_) {
        waiting_for_keyframe_ = true;
        stats_.OnKeyframeRequested();
        log::Info("viewer: frame {} could not be decoded; asking for a keyframe", frame.frame_id);
        wire::Envelope request;
        request.mutable_keyframe_request()->set_last_good_frame_id(last_good_frame_id_);
        channel_->Send(request, SendPriority::kControl);
      }
      return;
    }
    case DecodeResult::kError:
      channel_->Close(Error{ErrorCode::kDecodeFailed,
                            "the video decoder failed on frame " + std::to_string(frame.frame_id)});
      return;
  }
}

}  // namespace lifeline
