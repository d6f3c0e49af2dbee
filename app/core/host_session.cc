#include "app/core/host_session.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/log.h"
#include "base/time.h"
#include "base/version.h"
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

// Codecs this host can encode, in preference order.
constexpr VideoCodec kEncodableCodecs[] = {VideoCodec::kVp8, VideoCodec::kVp9};

}  // namespace

HostSession::HostSession(HostOptions options,
                         std::unique_ptr<Transport> transport,
                         CapturerFactory capturer_factory)
    : options_(std::move(options)),
      capturer_factory_(std::move(capturer_factory)),
      slot_(MergeFrameDamage) {
  ChannelOptions channel_options;
  channel_options.hello.set_role(wire::ROLE_HOST);
  channel_options.hello.set_app_version(kVersionString);
  for (VideoCodec codec : kEncodableCodecs) {
    channel_options.hello.add_video_codecs(static_cast<uint32_t>(codec));
  }
  channel_options.handshake_timeout_ms = options_.handshake_timeout_ms;
  channel_ = std::make_unique<MessageChannel>(std::move(transport), channel_options, this);
}

HostSession::~HostSession() {
  channel_->Stop();
}

Status HostSession::Run(const std::atomic<bool>& stop) {
  log::Info("host: viewer connected from {}", channel_->peer_description());
  channel_->Start();

  // 1. Handshake.
  {
    std::unique_lock lock(mutex_);
    while (!connected_ && !ended_ && !stop.load()) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  VideoCodec codec = options_.preferred_codec;
  {
    std::lock_guard lock(mutex_);
    if (connected_ && !ended_) {
      auto viewer_can = [&](VideoCodec c) {
        for (uint32_t v : peer_hello_.video_codecs()) {
          if (v == static_cast<uint32_t>(c))
            return true;
        }
        return false;
      };
      if (!viewer_can(codec)) {
        auto it =
            std::find_if(std::begin(kEncodableCodecs), std::end(kEncodableCodecs), viewer_can);
        if (it == std::end(kEncodableCodecs)) {
          ended_ = true;
          end_reason_ = Error{ErrorCode::kCodecUnsupported,
                              "the viewer supports none of the codecs this host can encode"};
        } else {
          codec = *it;
        }
      }
    }
  }

  // 2. Stream until the session ends.
  std::thread capture_thread;
  std::thread encode_thread;
  bool streaming = false;
  {
    std::lock_guard lock(mutex_);
    streaming = connected_ && !ended_;
  }
  if (streaming && !stop.load()) {
    log::Info("host: streaming {} at up to {} fps, {} kbit/s, window {} frames", ToString(codec),
              options_.max_fps, options_.bitrate_kbps, options_.max_frames_in_flight);
    capture_thread = std::thread([this] { CaptureLoop(); });
    encode_thread = std::thread([this, codec] { EncodeLoop(codec); });
  }
  {
    std::unique_lock lock(mutex_);
    while (!ended_ && !stop.load())
      cv_.wait_for(lock, std::chrono::milliseconds(100));
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
  if (reason.code == ErrorCode::kOk || reason.code == ErrorCode::kConnectionClosed) {
    log::Info("host: session ended ({})",
              reason.code == ErrorCode::kOk ? "stopped" : "viewer left");
    return Status::Ok();
  }
  log::Warning("host: session ended: {}", reason.ToString());
  return Status(reason);
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
  while (!threads_stop_.load()) {
    std::unique_ptr<Frame> frame;
    switch ((*capturer)->CaptureFrame(&frame)) {
      case CaptureResult::kSuccess: {
        temporary_errors = 0;
        {
          std::lock_guard lock(mutex_);
          ++stats_.frames_captured;
        }
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
  while (WaitForWindow()) {
    auto frame = slot_.WaitAndTake(std::chrono::milliseconds(100));
    if (!frame || !*frame)
      continue;
    const bool force_keyframe = keyframe_requested_.exchange(false);
    const bool changed = !(*frame)->updated_region().empty();
    if (changed) {
      last_change_us = (*frame)->capture_time_us();
      refresh_armed = true;
    }
    const bool refresh = !changed && !force_keyframe && refresh_armed &&
                         (*frame)->capture_time_us() - last_change_us >= kRefreshAfterStillUs;
    EncodedFrame encoded;
    const EncodeResult result = refresh ? (*encoder)->EncodeRefresh(**frame, &encoded)
                                        : (*encoder)->Encode(**frame, force_keyframe, &encoded);
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
    encoded.capture_time_us = (*frame)->capture_time_us();

    wire::VideoFrameInfo info;
    info.set_codec(static_cast<uint32_t>(encoded.codec));
    info.set_width(static_cast<uint32_t>(encoded.size.width));
    info.set_height(static_cast<uint32_t>(encoded.size.height));
    info.set_keyframe(encoded.keyframe);
    info.set_capture_time_us(encoded.capture_time_us);
    {
      std::lock_guard lock(mutex_);
      in_flight_.push_back(encoded.frame_id);
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

void HostSession::OnConnected(const wire::Hello& peer_hello) {
  if (peer_hello.role() != wire::ROLE_VIEWER) {
    channel_->Close(Error{ErrorCode::kUnexpectedMessage, "the peer is not a viewer"});
    return;
  }
  {
    std::lock_guard lock(mutex_);
    connected_ = true;
    peer_hello_ = peer_hello;
  }
  log::Info("host: viewer {} speaks protocol {}", peer_hello.app_version(),
            peer_hello.protocol_version());
  cv_.notify_all();
}

void HostSession::OnMessage(const wire::Envelope& message) {
  switch (message.payload_case()) {
    case wire::Envelope::kFrameAck: {
      bool ok = false;
      {
        std::lock_guard lock(mutex_);
        // Acks come in order; an ack for a frame we did not send is a protocol error.
        if (!in_flight_.empty() && in_flight_.front() == message.frame_ack().frame_id()) {
          in_flight_.pop_front();
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
