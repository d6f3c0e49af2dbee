// VpxVideoDecoder: the VP8 / VP9 decoder, on libvpx, hardened for hostile input.
//
// Internal to codec/ (CreateVideoDecoder returns it). Threading: as VideoDecoder.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "codec/video_codec.h"
#include "codec/video_decoder.h"
#include "codec/vpx_handle.h"

namespace lifeline {

class VpxVideoDecoder final : public VideoDecoder {
 public:
  // `codec` must be kVp8 or kVp9. Errors: kCodecUnsupported, kDecoderInitFailed.
  static Expected<std::unique_ptr<VpxVideoDecoder>> Create(VideoCodec codec);

  VpxVideoDecoder(const VpxVideoDecoder&) = delete;
  VpxVideoDecoder& operator=(const VpxVideoDecoder&) = delete;
  ~VpxVideoDecoder() override;

  // Until a keyframe has decoded cleanly (at the start, and after any undecodable or
  // corrupt frame), every frame that is not a keyframe gives kNeedKeyframe without reaching
  // libvpx. Keyframes larger than kMaxVideoDimension count as corrupt. After a libvpx
  // error the libvpx decoder is re-created (a clean state); kError only when that fails.
  // `*out` is written on kOk only.
  DecodeResult Decode(std::span<const uint8_t> data, I420Image* out) override;
  VideoCodec codec() const override { return codec_; }

  // Largest encoded frame accepted (libvpx takes an unsigned int length).
  static constexpr size_t kMaxEncodedFrameBytes = size_t{1} << 28;

 private:
  explicit VpxVideoDecoder(VideoCodec codec);

  // Destroys and re-creates the libvpx decoder: a clean state after corrupt data.
  Status Restart();
  // Records that a keyframe is needed; returns kNeedKeyframe.
  DecodeResult NeedKeyframe(std::string_view reason);

  VideoCodec codec_;
  internal::ScopedVpxCodec decoder_;
  bool waiting_for_keyframe_ = true;
  std::vector<uint8_t> vp9_buffer_;  // Reused: VP9 data with an explicit superframe index.
};

namespace internal {

// What the start of a VP9 frame's uncompressed header says about its size.
struct Vp9FrameHeader {
  bool show_existing_frame = false;  // A one-byte "show frame N again" frame.
  bool keyframe = false;
  bool intra_only = false;
  bool has_size = false;  // The frame codes its size (otherwise it reuses a reference's).
  int width = 0;
  int height = 0;
};

// Parses the VP9 uncompressed header of one frame up to its size. False when the data is
// not a VP9 frame libvpx would accept (bad marker, sync code or colour config) or too
// short.
bool ParseVp9FrameHeader(std::span<const uint8_t> frame, Vp9FrameHeader* header);

// Splits VP9 data into its frames, as libvpx will: by the superframe index when there is
// one, otherwise one frame. False when the index is present but invalid.
bool SplitVp9Superframe(std::span<const uint8_t> data,
                        std::vector<std::span<const uint8_t>>* frames);

}  // namespace internal
}  // namespace lifeline
