// VpxVideoEncoder: the VP8 / VP9 encoder, on libvpx, tuned for screen content in real time.
//
// Internal to codec/ (CreateVideoEncoder returns it); the benchmark includes this header to
// read the per-call timings. Threading: as VideoEncoder, one thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <vpx/vpx_encoder.h>

#include "base/geometry.h"
#include "base/status.h"
#include "capture/frame.h"
#include "codec/video_codec.h"
#include "codec/video_encoder.h"
#include "codec/vpx_handle.h"

namespace lifeline {

using VpxEncodeTimings = EncodeTimings;

// Overrides of the built-in libvpx settings, for the benchmark's speed sweeps.
struct VpxEncoderTuning {
  int cpu_used = 0;        // 0: the built-in speed. VP8: -16..-1, VP9: 5..9.
  int max_quantizer = -1;  // -1: built-in.
  int buffer_ms = 0;       // 0: built-in rc_buf_sz (initial and optimal scale with it).
};

class VpxVideoEncoder final : public VideoEncoder {
 public:
  // `config.codec` must be kVp8 or kVp9 (otherwise kCodecUnsupported). The libvpx encoder
  // is created when the first frame gives the size; Create() checks once, at a small size,
  // that libvpx accepts the configuration (kEncoderInitFailed otherwise).
  static Expected<std::unique_ptr<VpxVideoEncoder>> Create(const EncoderConfig& config,
                                                           const VpxEncoderTuning& tuning = {});

  VpxVideoEncoder(const VpxVideoEncoder&) = delete;
  VpxVideoEncoder& operator=(const VpxVideoEncoder&) = delete;
  ~VpxVideoEncoder() override;

  // Frames larger than kMaxVideoDimension (or empty) give kError.
  EncodeResult Encode(const Frame& frame, bool force_keyframe, EncodedFrame* out) override;
  // Clamped to [kMinBitrateKbps, kMaxBitrateKbps].
  EncodeResult EncodeRefresh(const Frame& frame, EncodedFrame* out) override;
  void SetTargetBitrate(int bitrate_kbps) override;
  VideoCodec codec() const override { return config_.codec; }

  const EncodeTimings& last_timings() const override { return last_timings_; }
  std::string_view implementation() const override { return "libvpx"; }
  // Threads libvpx uses at the current size (0 before the first frame).
  int threads() const { return static_cast<int>(vpx_config_.g_threads); }
  // Quantizer (0..63) of the last encoded frame, -1 if unknown. For diagnostics.
  int last_quantizer() const;

  // Quantizer cap (0..63 scale) for EncodeRefresh: measured on text, VP8 at 16 gives
  // > 38 dB where the real-time default (56) gives about 30.
  static constexpr unsigned kRefreshMaxQuantizer = 16;
  static constexpr int kMinBitrateKbps = 50;
  static constexpr int kMaxBitrateKbps = 100'000;

 private:
  VpxVideoEncoder(const EncoderConfig& config, const VpxEncoderTuning& tuning);

  // (Re)creates the libvpx encoder and the persistent I420 image for `size`.
  Status Initialize(Size size);
  // Converts the BGRA pixels of `rect` (already clipped to the frame) into `image_`,
  // widened to even coordinates so every chroma sample it touches is recomputed.
  void ConvertRect(const Frame& frame, const Rect& rect);

  EncoderConfig config_;
  VpxEncoderTuning tuning_;
  Size size_;  // Of `codec_` and `image_`; empty before the first frame.
  vpx_codec_enc_cfg_t vpx_config_{};
  internal::ScopedVpxCodec codec_;
  internal::ScopedVpxImage image_;
  int64_t last_pts_ms_ = -1;
  // Carried over when libvpx produced no packet for a frame (a frame drop), so the next
  // Encode still sends what changed.
  bool pending_keyframe_ = false;
  bool pending_changes_ = false;
  VpxEncodeTimings last_timings_;
};

}  // namespace lifeline
