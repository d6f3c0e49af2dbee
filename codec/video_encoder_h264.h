// H264VideoEncoder: H.264 through libavcodec, tuned for interactive screen sharing.
//
// Software: libx264, preset ultrafast, tune zerolatency (no B-frames, no look-ahead,
// sliced threads: one frame in, one frame out), capped CRF (a quality target that spends
// nothing on unchanged areas, held under the target bitrate by a short VBV buffer), no
// periodic keyframes: an IDR (with SPS/PPS) at the start, at a size change and on request.
// Hardware: with EncoderConfig::hardware == kAuto, NVENC (h264_nvenc, low-latency preset)
// is tried first and used when a GPU and driver are present; anything else falls back to
// libx264, which always works. VAAPI and QSV need GPU frame upload and are not tried.
//
// Odd sizes: H.264 4:2:0 needs even dimensions, so an odd frame is coded one column / row
// larger (the extra one is black); FitDecodedToAnnouncedSize() on the viewer crops it.
//
// Internal to codec/ (CreateVideoEncoder returns it). Threading: as VideoEncoder.
#pragma once

#include <memory>
#include <string>

#include "codec/av_handle.h"
#include "codec/video_encoder.h"

namespace lifeline {

class H264VideoEncoder final : public VideoEncoder {
 public:
  // Errors: kEncoderInitFailed (no H.264 encoder in this libavcodec, or a bad setting).
  static Expected<std::unique_ptr<H264VideoEncoder>> Create(const EncoderConfig& config);

  H264VideoEncoder(const H264VideoEncoder&) = delete;
  H264VideoEncoder& operator=(const H264VideoEncoder&) = delete;
  ~H264VideoEncoder() override;

  EncodeResult Encode(const Frame& frame, bool force_keyframe, EncodedFrame* out) override;
  EncodeResult EncodeRefresh(const Frame& frame, EncodedFrame* out) override;
  void SetTargetBitrate(int bitrate_kbps) override;
  VideoCodec codec() const override { return VideoCodec::kH264; }
  const EncodeTimings& last_timings() const override { return last_timings_; }
  std::string_view implementation() const override { return encoder_name_; }

  // Constant rate factor while things move (capped by the VBV at the target bitrate), and
  // for the refresh of a still screen (lower is sharper; the refresh is an IDR frame, see
  // EncodeRefresh in the .cc).
  static constexpr int kCrf = 22;
  static constexpr int kRefreshCrf = 16;
  static constexpr int kMinBitrateKbps = 50;
  static constexpr int kMaxBitrateKbps = 100'000;

 private:
  explicit H264VideoEncoder(const EncoderConfig& config);

  // (Re)opens the encoder and the persistent I420 picture for `size` (odd sides rounded
  // up). Tries NVENC first when allowed and not already found missing.
  Status Initialize(Size size);
  // Opens `name` into context_ (on success only), at `crf` (libx264) and `vbv_factor`
  // times the target bitrate.
  Status OpenEncoder(const char* name, Size coded_size, int crf, int vbv_factor);
  void ConvertRect(const Frame& frame, const Rect& rect);
  void ApplyRateControl();
  // Sends the picture and collects the packet. kSkipped if the encoder produced nothing.
  EncodeResult EncodePicture(bool keyframe,
                             int64_t start_us,
                             int64_t converted_us,
                             EncodedFrame* out);

  EncoderConfig config_;
  std::string encoder_name_;
  bool hardware_missing_ = false;
  Size size_;  // Of the frames given; the coded size is this rounded up to even.
  internal::ScopedAvCodecContext context_;
  internal::ScopedAvFrame picture_;
  internal::ScopedAvPacket packet_;
  int64_t next_pts_ = 0;
  bool pending_keyframe_ = false;
  bool pending_changes_ = false;
  EncodeTimings last_timings_;
};

}  // namespace lifeline
