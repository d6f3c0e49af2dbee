#include "codec/video_encoder_vpx.h"

#include <algorithm>
#include <string>
#include <thread>

#include <vpx/vp8cx.h>

#include "base/log.h"
#include "base/time.h"
#include "codec/encoder_common.h"

namespace lifeline {
namespace {

// Pictures this small encode fast on one thread; more threads only cost quality.
constexpr int64_t kSingleThreadMaxPixels = 640 * 480;
constexpr int64_t kTwoThreadsMaxPixels = 1280 * 720;
constexpr int kMaxAutoThreads = 4;

// Quantizer range (0..63 scale of the libvpx API). The low minimum lets a mostly static
// screen converge to near-lossless text; the maximum bounds how bad motion may look.
constexpr unsigned kMinQuantizer = 2;
constexpr unsigned kMaxQuantizer = 56;

// Rate-control buffer, in milliseconds at the target bitrate.
constexpr unsigned kBufferMs = 2000;

// Speeds, measured with lifeline-codec-bench at 1920x1080, 4 Mbit/s, 2 threads (see the
// numbers in codec/bench/codec_bench.cc). VP8 -6 beats the "faster" -12/-16 on both
// quality (+2..4 dB) and, when the screen scrolls, on time too: their weaker motion search
// misses the scroll and codes residue instead. VP9 9 keeps a full-screen scroll under the
// 33 ms frame budget (speed 8: 29 ms median, 36 ms p95) for -0.4 dB.
constexpr int kVp8CpuUsed = -6;  // Negative: real-time mode, |value| is the speed.
constexpr int kVp9CpuUsed = 9;   // 5..9 are the real-time speeds.
// VP8: skip macroblocks whose difference from the reference is below this (sum of
// absolute differences); keeps unchanged areas from spending bits on noise.
constexpr unsigned kVp8StaticThreshold = 100;

// Size of the small picture Create() initializes once to validate the configuration.
constexpr Size kProbeSize{64, 64};

vpx_codec_iface_t* EncoderInterface(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::kVp8:
      return vpx_codec_vp8_cx();
    case VideoCodec::kVp9:
      return vpx_codec_vp9_cx();
    case VideoCodec::kH264:
      break;
  }
  return nullptr;
}

// Threads for `size`: one for small pictures, otherwise up to one per core. VP8 leaves one
// core free: its row threads synchronise by spin-waiting, and with every core busy a
// preempted peer stalls a frame by a whole scheduler slice (measured on 2 cores under
// load: p95 encode 9 ms -> 265 ms). VP9 waits on condition variables and has no such cliff.
int AutoThreads(VideoCodec codec, Size size) {
  const int64_t pixels = int64_t{size.width} * size.height;
  if (pixels <= kSingleThreadMaxPixels)
    return 1;
  int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (codec == VideoCodec::kVp8)
    cores = std::max(1, cores - 1);
  if (pixels <= kTwoThreadsMaxPixels)
    return std::min(cores, 2);
  return std::min(cores, kMaxAutoThreads);
}

// log2 of the VP9 tile columns for `threads`; tiles are at least 256 pixels wide.
int Vp9TileColumnsLog2(int threads, int width) {
  int log2 = 0;
  while ((2 << log2) <= threads && (width >> (log2 + 1)) >= 256)
    ++log2;
  return log2;
}

template <typename T>
Status Control(vpx_codec_ctx_t* codec, int id, T value, const char* name) {
  const vpx_codec_err_t err = vpx_codec_control_(codec, id, value);
  if (err != VPX_CODEC_OK) {
    return Status(ErrorCode::kEncoderInitFailed,
                  internal::VpxErrorText(std::string("libvpx refused ") + name, err, codec));
  }
  return Status::Ok();
}

}  // namespace

Expected<std::unique_ptr<VpxVideoEncoder>> VpxVideoEncoder::Create(const EncoderConfig& config,
                                                                   const VpxEncoderTuning& tuning) {
  if (!EncoderInterface(config.codec)) {
    return Error{ErrorCode::kCodecUnsupported,
                 "the libvpx encoder cannot encode " + std::string(ToString(config.codec))};
  }
  if (Status status = internal::ValidateEncoderConfig(config); !status.ok())
    return status.error();
  std::unique_ptr<VpxVideoEncoder> encoder(new VpxVideoEncoder(config, tuning));
  // Fail here, where the caller can report it, rather than on the first frame.
  if (Status status = encoder->Initialize(kProbeSize); !status.ok())
    return status.error();
  encoder->codec_.reset();
  encoder->image_.reset();
  encoder->size_ = Size{};
  encoder->vpx_config_.g_threads = 0;
  return encoder;
}

VpxVideoEncoder::VpxVideoEncoder(const EncoderConfig& config, const VpxEncoderTuning& tuning)
    : config_(config), tuning_(tuning) {
  config_.target_bitrate_kbps =
      std::clamp(config_.target_bitrate_kbps, kMinBitrateKbps, kMaxBitrateKbps);
}

VpxVideoEncoder::~VpxVideoEncoder() = default;

Status VpxVideoEncoder::Initialize(Size size) {
  codec_.reset();
  image_.reset();
  size_ = Size{};

  vpx_codec_iface_t* iface = EncoderInterface(config_.codec);
  vpx_codec_enc_cfg_t cfg;
  // libvpx 1.12 knows usage 0 only; real-time mode comes from VPX_DL_REALTIME and a
  // real-time cpu-used value.
  if (vpx_codec_err_t err = vpx_codec_enc_config_default(iface, &cfg, 0); err != VPX_CODEC_OK) {
    return Status(
        ErrorCode::kEncoderInitFailed,
        internal::VpxErrorText("libvpx has no default encoder configuration", err, nullptr));
  }
  cfg.g_w = static_cast<unsigned>(size.width);
  cfg.g_h = static_cast<unsigned>(size.height);
  cfg.g_timebase.num = 1;  // Milliseconds: pts come from Frame::capture_time_us().
  cfg.g_timebase.den = 1000;
  cfg.g_threads = static_cast<unsigned>(config_.threads > 0 ? config_.threads
                                                            : AutoThreads(config_.codec, size));
  cfg.g_pass = VPX_RC_ONE_PASS;
  cfg.g_lag_in_frames = 0;  // One frame in, one packet out.
  cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
  cfg.rc_end_usage = VPX_CBR;
  cfg.rc_target_bitrate = static_cast<unsigned>(config_.target_bitrate_kbps);
  cfg.rc_min_quantizer = kMinQuantizer;
  cfg.rc_max_quantizer =
      tuning_.max_quantizer >= 0 ? static_cast<unsigned>(tuning_.max_quantizer) : kMaxQuantizer;
  cfg.rc_undershoot_pct = 100;
  cfg.rc_overshoot_pct = 15;
  // Milliseconds of data at the target bitrate.
  cfg.rc_buf_sz = tuning_.buffer_ms > 0 ? static_cast<unsigned>(tuning_.buffer_ms) : kBufferMs;
  cfg.rc_buf_initial_sz = cfg.rc_buf_sz / 2;
  cfg.rc_buf_optimal_sz = cfg.rc_buf_sz * 3 / 5;
  cfg.rc_dropframe_thresh = 0;  // Never drop: a dropped frame would lose damage.
  cfg.rc_resize_allowed = 0;
  cfg.kf_mode = VPX_KF_DISABLED;  // Keyframes at start, size change and on request only.
  cfg.kf_min_dist = 0;
  cfg.kf_max_dist = 0;

  internal::ScopedVpxCodec codec(new vpx_codec_ctx_t{});
  if (vpx_codec_err_t err = vpx_codec_enc_init(codec.get(), iface, &cfg, 0); err != VPX_CODEC_OK) {
    // A failed init leaves nothing to destroy; free the struct only.
    Error error{ErrorCode::kEncoderInitFailed,
                internal::VpxErrorText("libvpx " + std::string(ToString(config_.codec)) +
                                           " encoder init failed at " + std::to_string(size.width) +
                                           "x" + std::to_string(size.height),
                                       err, codec.get())};
    delete codec.release();
    return error;
  }

  Status status;
  if (config_.codec == VideoCodec::kVp8) {
    status = Control(codec.get(), VP8E_SET_CPUUSED,
                     tuning_.cpu_used ? tuning_.cpu_used : kVp8CpuUsed, "VP8E_SET_CPUUSED");
    if (status.ok()) {
      status =
          Control(codec.get(), VP8E_SET_SCREEN_CONTENT_MODE, 1u, "VP8E_SET_SCREEN_CONTENT_MODE");
    }
    if (status.ok()) {
      status = Control(codec.get(), VP8E_SET_STATIC_THRESHOLD, kVp8StaticThreshold,
                       "VP8E_SET_STATIC_THRESHOLD");
    }
    if (status.ok()) {
      status = Control(codec.get(), VP8E_SET_NOISE_SENSITIVITY, 0u, "VP8E_SET_NOISE_SENSITIVITY");
    }
  } else {
    status = Control(codec.get(), VP8E_SET_CPUUSED,
                     tuning_.cpu_used ? tuning_.cpu_used : kVp9CpuUsed, "VP8E_SET_CPUUSED");
    if (status.ok()) {
      status = Control(codec.get(), VP9E_SET_TUNE_CONTENT, static_cast<int>(VP9E_CONTENT_SCREEN),
                       "VP9E_SET_TUNE_CONTENT");
    }
    if (status.ok()) {
      // Cyclic refresh: spends spare bits re-coding old areas, so static text sharpens.
      status = Control(codec.get(), VP9E_SET_AQ_MODE, 3u, "VP9E_SET_AQ_MODE");
    }
    if (status.ok()) {
      status = Control(codec.get(), VP9E_SET_NOISE_SENSITIVITY, 0u, "VP9E_SET_NOISE_SENSITIVITY");
    }
    if (status.ok()) {
      status = Control(codec.get(), VP9E_SET_TILE_COLUMNS,
                       Vp9TileColumnsLog2(static_cast<int>(cfg.g_threads), size.width),
                       "VP9E_SET_TILE_COLUMNS");
    }
    if (status.ok()) {
      status =
          Control(codec.get(), VP9E_SET_ROW_MT, cfg.g_threads > 1 ? 1u : 0u, "VP9E_SET_ROW_MT");
    }
  }
  if (!status.ok())
    return status;

  // 32-byte aligned strides for libyuv's SIMD rows.
  internal::ScopedVpxImage image(vpx_img_alloc(nullptr, VPX_IMG_FMT_I420,
                                               static_cast<unsigned>(size.width),
                                               static_cast<unsigned>(size.height), 32));
  if (!image) {
    return Status(ErrorCode::kEncoderInitFailed, "could not allocate a " +
                                                     std::to_string(size.width) + "x" +
                                                     std::to_string(size.height) + " I420 picture");
  }

  vpx_config_ = cfg;
  codec_ = std::move(codec);
  image_ = std::move(image);
  size_ = size;
  return Status::Ok();
}

void VpxVideoEncoder::ConvertRect(const Frame& frame, const Rect& rect) {
  vpx_image_t* img = image_.get();
  const internal::I420Planes planes{img->planes[VPX_PLANE_Y], img->stride[VPX_PLANE_Y],
                                    img->planes[VPX_PLANE_U], img->stride[VPX_PLANE_U],
                                    img->planes[VPX_PLANE_V], img->stride[VPX_PLANE_V]};
  last_timings_.converted_pixels += internal::ConvertRectToI420(frame, rect, planes);
}

EncodeResult VpxVideoEncoder::Encode(const Frame& frame, bool force_keyframe, EncodedFrame* out) {
  const int64_t start_us = MonotonicNowUs();
  last_timings_ = VpxEncodeTimings{};
  const Size size = frame.size();
  if (!internal::CheckEncodableFrame(frame))
    return EncodeResult::kError;

  bool keyframe = force_keyframe || pending_keyframe_;
  if (!codec_ || size != size_) {
    if (Status status = Initialize(size); !status.ok()) {
      log::Error("encoder: {}", status.ToString());
      return EncodeResult::kError;
    }
    if (last_pts_ms_ >= 0)
      log::Info("encoder: restarted at {}x{}", size.width, size.height);
    keyframe = true;
    ConvertRect(frame, Rect::FromSize(size));
  } else {
    Region damage = frame.updated_region();
    damage.ClipTo(Rect::FromSize(size));
    if (damage.empty() && !keyframe && !pending_changes_)
      return EncodeResult::kSkipped;
    for (const Rect& rect : damage.rects())
      ConvertRect(frame, rect);
  }
  const int64_t converted_us = MonotonicNowUs();
  last_timings_.convert_us = converted_us - start_us;

  const int64_t pts_ms = std::max(frame.capture_time_us() / 1000, last_pts_ms_ + 1);
  last_pts_ms_ = pts_ms;
  const unsigned long duration_ms = static_cast<unsigned long>(std::max(1, 1000 / config_.max_fps));
  const vpx_enc_frame_flags_t flags = keyframe ? VPX_EFLAG_FORCE_KF : 0;
  const vpx_codec_err_t err =
      vpx_codec_encode(codec_.get(), image_.get(), pts_ms, duration_ms, flags, VPX_DL_REALTIME);
  if (err != VPX_CODEC_OK) {
    log::Error("encoder: {}", internal::VpxErrorText("vpx_codec_encode failed", err, codec_.get()));
    codec_.reset();  // Start afresh (with a keyframe) if the caller tries again.
    return EncodeResult::kError;
  }

  out->data.clear();
  out->keyframe = false;
  vpx_codec_iter_t iter = nullptr;
  while (const vpx_codec_cx_pkt_t* packet = vpx_codec_get_cx_data(codec_.get(), &iter)) {
    if (packet->kind != VPX_CODEC_CX_FRAME_PKT)
      continue;
    const auto* bytes = static_cast<const uint8_t*>(packet->data.frame.buf);
    out->data.insert(out->data.end(), bytes, bytes + packet->data.frame.sz);
    if (packet->data.frame.flags & VPX_FRAME_IS_KEY)
      out->keyframe = true;
  }
  const int64_t end_us = MonotonicNowUs();
  last_timings_.encode_us = end_us - converted_us;

  if (out->data.empty()) {
    // libvpx dropped the frame (rate control). Its pixels are in `image_` already; make
    // sure the next call encodes them even if nothing else changes.
    pending_changes_ = true;
    pending_keyframe_ = keyframe;
    return EncodeResult::kSkipped;
  }
  pending_changes_ = false;
  pending_keyframe_ = false;
  out->codec = config_.codec;
  out->size = size;
  out->encode_duration_us = end_us - start_us;
  return EncodeResult::kOk;
}

EncodeResult VpxVideoEncoder::EncodeRefresh(const Frame& frame, EncodedFrame* out) {
  if (!codec_ || frame.size() != size_)
    return Encode(frame, false, out);
  // Cap the quantizer for this one frame, then give rate control its range back.
  const unsigned saved_min = vpx_config_.rc_min_quantizer;
  const unsigned saved_max = vpx_config_.rc_max_quantizer;
  vpx_config_.rc_max_quantizer = std::min(saved_max, kRefreshMaxQuantizer);
  vpx_config_.rc_min_quantizer = std::min(saved_min, vpx_config_.rc_max_quantizer);
  if (vpx_codec_enc_config_set(codec_.get(), &vpx_config_) != VPX_CODEC_OK) {
    vpx_config_.rc_min_quantizer = saved_min;
    vpx_config_.rc_max_quantizer = saved_max;
    return Encode(frame, false, out);
  }
  pending_changes_ = true;  // Encode even though nothing changed.
  const EncodeResult result = Encode(frame, false, out);
  vpx_config_.rc_min_quantizer = saved_min;
  vpx_config_.rc_max_quantizer = saved_max;
  if (codec_ && vpx_codec_enc_config_set(codec_.get(), &vpx_config_) != VPX_CODEC_OK) {
    log::Error("encoder: could not restore the quantizer range after a refresh");
    return EncodeResult::kError;
  }
  return result;
}

int VpxVideoEncoder::last_quantizer() const {
  int quantizer = -1;
  if (!codec_ ||
      vpx_codec_control(codec_.get(), VP8E_GET_LAST_QUANTIZER_64, &quantizer) != VPX_CODEC_OK) {
    return -1;
  }
  return quantizer;
}

void VpxVideoEncoder::SetTargetBitrate(int bitrate_kbps) {
  config_.target_bitrate_kbps = std::clamp(bitrate_kbps, kMinBitrateKbps, kMaxBitrateKbps);
  if (!codec_)
    return;  // Applied by Initialize().
  vpx_config_.rc_target_bitrate = static_cast<unsigned>(config_.target_bitrate_kbps);
  if (vpx_codec_err_t err = vpx_codec_enc_config_set(codec_.get(), &vpx_config_);
      err != VPX_CODEC_OK) {
    log::Warning("encoder: {}",
                 internal::VpxErrorText("could not change the bitrate", err, codec_.get()));
  }
}

}  // namespace lifeline
