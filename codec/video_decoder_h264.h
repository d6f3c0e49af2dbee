// H264VideoDecoder: H.264 through libavcodec's native decoder, hardened for hostile input.
//
// Low delay (one packet in, one picture out, no frame threads), pictures limited to
// kMaxVideoDimension on each side and to kMaxVideoDimension^2 pixels before libavcodec
// allocates them (max_pixels), errors are fatal to the frame (AV_EF_EXPLODE) instead of
// being concealed: a frame with an error, or one that libavcodec marks corrupt, is
// kNeedKeyframe, and the decoder is re-created so no damaged reference survives.
//
// Internal to codec/ (CreateVideoDecoder returns it). Threading: as VideoDecoder.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "codec/av_handle.h"
#include "codec/video_decoder.h"

namespace lifeline {

class H264VideoDecoder final : public VideoDecoder {
 public:
  // Errors: kDecoderInitFailed (no H.264 decoder in this libavcodec).
  static Expected<std::unique_ptr<H264VideoDecoder>> Create();

  H264VideoDecoder(const H264VideoDecoder&) = delete;
  H264VideoDecoder& operator=(const H264VideoDecoder&) = delete;
  ~H264VideoDecoder() override;

  // Until an IDR picture decoded cleanly (at the start, and after any error), data
  // without an IDR slice gives kNeedKeyframe without reaching libavcodec. `*out` is
  // written on kOk only (its size is the coded size: even; see
  // FitDecodedToAnnouncedSize).
  DecodeResult Decode(std::span<const uint8_t> data, I420Image* out) override;
  VideoCodec codec() const override { return VideoCodec::kH264; }

  static constexpr size_t kMaxEncodedFrameBytes = size_t{1} << 28;

 private:
  H264VideoDecoder() = default;
  Status Restart();
  DecodeResult NeedKeyframe(std::string_view reason);

  internal::ScopedAvCodecContext context_;
  internal::ScopedAvFrame picture_;
  internal::ScopedAvPacket packet_;
  bool waiting_for_keyframe_ = true;
};

namespace internal {

// True when Annex B `data` holds an IDR slice (NAL unit type 5).
bool H264ContainsIdr(std::span<const uint8_t> data);

}  // namespace internal
}  // namespace lifeline
