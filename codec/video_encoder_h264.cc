#include "codec/video_encoder_h264.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

extern "C" {
#include <libavutil/opt.h>
}

#include "base/log.h"
#include "base/time.h"
#include "codec/encoder_common.h"

namespace lifeline {
namespace {

constexpr int64_t kSingleThreadMaxPixels = 640 * 480;
// VBV buffer, in milliseconds at the target bitrate: short, so no frame may take much
// longer than a frame interval to send (a keyframe gets a few intervals).
constexpr int kVbvBufferMs = 1000;
// The refresh frame may use this many times the normal VBV rate and buffer.
constexpr int kRefreshVbvFactor = 4;
// Periodic keyframes are off: x264 treats this as "infinite".
constexpr int kNoPeriodicKeyframes = 1 << 30;
constexpr Size kProbeSize{64, 64};

int AutoThreads(Size size) {
  const int64_t pixels = int64_t{size.width} * size.height;
  if (pixels <= kSingleThreadMaxPixels)
    return 1;
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
}

Size EvenSize(Size size) {
  return Size{(size.width + 1) & ~1, (size.height + 1) & ~1};
}

}  // namespace

Expected<std::unique_ptr<H264VideoEncoder>> H264VideoEncoder::Create(const EncoderConfig& config) {
  if (config.codec != VideoCodec::kH264) {
    return Error{ErrorCode::kCodecUnsupported,
                 "the H.264 encoder cannot encode " + std::string(ToString(config.codec))};
  }
  if (Status status = internal::ValidateEncoderConfig(config); !status.ok())
    return status.error();
  internal::RouteAvLogOnce();
  std::unique_ptr<H264VideoEncoder> encoder(new H264VideoEncoder(config));
  // Fail here, where the caller can report it, rather than on the first frame.
  if (Status status = encoder->Initialize(kProbeSize); !status.ok())
    return status.error();
  encoder->context_.reset();
  encoder->picture_.reset();
  encoder->size_ = Size{};
  return encoder;
}

H264VideoEncoder::H264VideoEncoder(const EncoderConfig& config)
    : config_(config), packet_(av_packet_alloc()) {
  config_.target_bitrate_kbps =
      std::clamp(config_.target_bitrate_kbps, kMinBitrateKbps, kMaxBitrateKbps);
  if (config_.hardware == HardwareEncoding::kOff)
    hardware_missing_ = true;
}

H264VideoEncoder::~H264VideoEncoder() = default;

Status H264VideoEncoder::OpenEncoder(const char* name, Size coded_size, int crf, int vbv_factor) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name);
  if (codec == nullptr) {
    return Status(ErrorCode::kEncoderInitFailed,
                  std::string("this libavcodec has no ") + name + " encoder");
  }
  internal::ScopedAvCodecContext context(avcodec_alloc_context3(codec));
  if (!context)
    return Status(ErrorCode::kEncoderInitFailed, "out of memory for the H.264 encoder");
  context->width = coded_size.width;
  context->height = coded_size.height;
  context->pix_fmt = AV_PIX_FMT_YUV420P;
  context->time_base = AVRational{1, 1000};  // Milliseconds, like the capture clock.
  context->framerate = AVRational{config_.max_fps, 1};
  context->gop_size = kNoPeriodicKeyframes;
  context->max_b_frames = 0;
  context->thread_count = config_.threads > 0 ? config_.threads : AutoThreads(coded_size);
  context->color_range = AVCOL_RANGE_MPEG;
  context->colorspace = AVCOL_SPC_BT470BG;  // BT.601, as libyuv converts.
  const bool x264 = std::strcmp(name, "libx264") == 0;
  AVDictionary* options = nullptr;
  if (x264) {
    av_dict_set(&options, "preset", "ultrafast", 0);
    av_dict_set(&options, "tune", "zerolatency", 0);
    av_dict_set(&options, "forced-idr", "1", 0);
    av_dict_set_int(&options, "crf", crf, 0);
  } else {
    av_dict_set(&options, "preset", "p1", 0);
    av_dict_set(&options, "tune", "ull", 0);
    av_dict_set(&options, "zerolatency", "1", 0);
    av_dict_set(&options, "forced-idr", "1", 0);
    av_dict_set(&options, "rc", "cbr", 0);
  }
  const int64_t bitrate = int64_t{config_.target_bitrate_kbps} * 1000 * vbv_factor;
  context->bit_rate = x264 ? 0 : bitrate;  // x264: capped CRF, the cap below.
  context->rc_max_rate = bitrate;
  context->rc_buffer_size = static_cast<int>(bitrate * kVbvBufferMs / 1000);
  const int err = avcodec_open2(context.get(), codec, &options);
  av_dict_free(&options);
  if (err < 0) {
    return Status(ErrorCode::kEncoderInitFailed,
                  internal::AvErrorText(std::string("cannot open the ") + name + " encoder at " +
                                            std::to_string(coded_size.width) + "x" +
                                            std::to_string(coded_size.height),
                                        err));
  }
  context_ = std::move(context);
  encoder_name_ = name;
  return Status::Ok();
}

Status H264VideoEncoder::Initialize(Size size) {
  context_.reset();
  picture_.reset();
  size_ = Size{};
  const Size coded = EvenSize(size);
  if (!packet_)
    return Status(ErrorCode::kEncoderInitFailed, "out of memory for H.264 packets");
  Status status(ErrorCode::kEncoderInitFailed, "");
  if (!hardware_missing_) {
    status = OpenEncoder("h264_nvenc", coded, kCrf, 1);
    if (!status.ok()) {
      log::Debug("encoder: no hardware H.264 encoder ({}); using libx264", status.ToString());
      hardware_missing_ = true;
    }
  }
  if (!context_)
    status = OpenEncoder("libx264", coded, kCrf, 1);
  if (!status.ok())
    return status;

  internal::ScopedAvFrame picture(av_frame_alloc());
  if (!picture)
    return Status(ErrorCode::kEncoderInitFailed, "out of memory for the H.264 picture");
  picture->format = AV_PIX_FMT_YUV420P;
  picture->width = coded.width;
  picture->height = coded.height;
  // 32-byte alignment for libyuv's SIMD rows.
  if (int err = av_frame_get_buffer(picture.get(), 32); err < 0) {
    return Status(ErrorCode::kEncoderInitFailed,
                  internal::AvErrorText("cannot allocate the H.264 picture", err));
  }
  // Black, so the padding of odd sizes is black.
  std::memset(picture->data[0], 16, static_cast<size_t>(picture->linesize[0]) * coded.height);
  std::memset(picture->data[1], 128, static_cast<size_t>(picture->linesize[1]) * coded.height / 2);
  std::memset(picture->data[2], 128, static_cast<size_t>(picture->linesize[2]) * coded.height / 2);
  picture_ = std::move(picture);
  size_ = size;
  return Status::Ok();
}

void H264VideoEncoder::ConvertRect(const Frame& frame, const Rect& rect) {
  AVFrame* p = picture_.get();
  const internal::I420Planes planes{p->data[0],     p->linesize[0], p->data[1],
                                    p->linesize[1], p->data[2],     p->linesize[2]};
  last_timings_.converted_pixels += internal::ConvertRectToI420(frame, rect, planes);
}

EncodeResult H264VideoEncoder::Encode(const Frame& frame, bool force_keyframe, EncodedFrame* out) {
  const int64_t start_us = MonotonicNowUs();
  last_timings_ = EncodeTimings{};
  const Size size = frame.size();
  if (!internal::CheckEncodableFrame(frame))
    return EncodeResult::kError;
  bool keyframe = force_keyframe || pending_keyframe_;
  if (!context_ || size != size_) {
    const bool restart = context_ != nullptr;
    if (Status status = Initialize(size); !status.ok()) {
      log::Error("encoder: {}", status.ToString());
      return EncodeResult::kError;
    }
    if (restart)
      log::Info("encoder: restarted at {}x{}", size.width, size.height);
    keyframe = true;
    ConvertRect(frame, Rect::FromSize(size));
  } else {
    Region damage = frame.updated_region();
    damage.ClipTo(Rect::FromSize(size));
    if (damage.empty() && !keyframe && !pending_changes_)
      return EncodeResult::kSkipped;
    if (av_frame_make_writable(picture_.get()) < 0) {
      log::Error("encoder: the H.264 picture is not writable");
      return EncodeResult::kError;
    }
    for (const Rect& rect : damage.rects())
      ConvertRect(frame, rect);
  }
  const int64_t converted_us = MonotonicNowUs();
  last_timings_.convert_us = converted_us - start_us;
  return EncodePicture(keyframe, start_us, converted_us, out);
}

EncodeResult H264VideoEncoder::EncodePicture(bool keyframe,
                                             int64_t start_us,
                                             int64_t converted_us,
                                             EncodedFrame* out) {
  AVFrame* p = picture_.get();
  p->pts = next_pts_;
  next_pts_ += std::max(1, 1000 / config_.max_fps);
  p->pict_type = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  p->key_frame = keyframe ? 1 : 0;
  int err = avcodec_send_frame(context_.get(), p);
  if (err < 0) {
    log::Error("encoder: {}", internal::AvErrorText("avcodec_send_frame failed", err));
    context_.reset();  // Start afresh (with a keyframe) if the caller tries again.
    return EncodeResult::kError;
  }
  out->data.clear();
  out->keyframe = false;
  while ((err = avcodec_receive_packet(context_.get(), packet_.get())) >= 0) {
    out->data.insert(out->data.end(), packet_->data, packet_->data + packet_->size);
    if (packet_->flags & AV_PKT_FLAG_KEY)
      out->keyframe = true;
    av_packet_unref(packet_.get());
  }
  if (err != AVERROR(EAGAIN)) {
    log::Error("encoder: {}", internal::AvErrorText("avcodec_receive_packet failed", err));
    context_.reset();
    return EncodeResult::kError;
  }
  const int64_t end_us = MonotonicNowUs();
  last_timings_.encode_us = end_us - converted_us;
  if (out->data.empty()) {
    // Nothing came out (an encoder with delay, or a dropped frame): send it next time.
    pending_changes_ = true;
    pending_keyframe_ = keyframe;
    return EncodeResult::kSkipped;
  }
  pending_changes_ = false;
  pending_keyframe_ = false;
  out->codec = VideoCodec::kH264;
  out->size = size_;
  out->encode_duration_us = end_us - start_us;
  return EncodeResult::kOk;
}

EncodeResult H264VideoEncoder::EncodeRefresh(const Frame& frame, EncodedFrame* out) {
  if (!context_ || frame.size() != size_)
    return Encode(frame, false, out);
  if (encoder_name_ != "libx264") {
    pending_changes_ = true;  // A plain re-encode: the hardware encoder's CBR sharpens.
    return Encode(frame, false, out);
  }
  // An IDR frame at a lower CRF from a freshly opened libx264, then back to the normal
  // CRF and VBV (libx264 reconfigures when they change between frames). Why not a P
  // frame: x264 spreads a CRF change over several frames (measured: one P frame at CRF 10
  // gained 0.2 dB on a blurry picture). Why a fresh encoder: x264's VBV only counts
  // encoded frames, so after a keyframe and an idle screen it still believes its buffer
  // is empty and starves the refresh (measured: 12 KB, 14 dB). Re-opening costs a few
  // milliseconds, once per still period.
  if (Status status = OpenEncoder("libx264", EvenSize(size_), kRefreshCrf, kRefreshVbvFactor);
      !status.ok()) {
    log::Warning("encoder: {}; refreshing without a fresh encoder", status.ToString());
    return Encode(frame, /*force_keyframe=*/true, out);
  }
  const EncodeResult result = Encode(frame, /*force_keyframe=*/true, out);
  if (context_) {
    av_opt_set_int(context_->priv_data, "crf", kCrf, 0);
    ApplyRateControl();
  }
  return result;
}

void H264VideoEncoder::SetTargetBitrate(int bitrate_kbps) {
  config_.target_bitrate_kbps = std::clamp(bitrate_kbps, kMinBitrateKbps, kMaxBitrateKbps);
  ApplyRateControl();
}

void H264VideoEncoder::ApplyRateControl() {
  if (!context_)
    return;  // Applied when the encoder opens.
  // libx264 reconfigures itself when these change between frames.
  const int64_t bitrate = int64_t{config_.target_bitrate_kbps} * 1000;
  if (encoder_name_ != "libx264")
    context_->bit_rate = bitrate;
  context_->rc_max_rate = bitrate;
  context_->rc_buffer_size = static_cast<int>(bitrate * kVbvBufferMs / 1000);
}

}  // namespace lifeline
