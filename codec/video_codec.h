// Codec identifiers and the encoded-frame value shared by encoders and decoders.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/geometry.h"
#include "base/status.h"

namespace lifeline {

// Numbers are stable: they travel on the wire.
enum class VideoCodec : uint8_t {
  kVp8 = 1,
  kVp9 = 2,
  kH264 = 3,
};

// Largest frame width or height any encoder accepts or any decoder outputs. Bigger frames
// are refused (encoder: kError; decoder: treated as corrupt data), which bounds the memory
// a hostile peer can make the decoder allocate.
inline constexpr int kMaxVideoDimension = 8192;

std::string_view ToString(VideoCodec codec);
Expected<VideoCodec> ParseVideoCodec(std::string_view text);  // "vp8", "vp9", "h264".

// Every codec this build encodes and decodes, in the host's default order of preference.
inline constexpr VideoCodec kSupportedVideoCodecs[] = {VideoCodec::kVp8, VideoCodec::kVp9,
                                                       VideoCodec::kH264};

// Picks the codec for a session. `peer_codecs` are the numbers the viewer's Hello lists.
// With `forced` (the user's --codec), that codec or kCodecUnsupported naming it; otherwise
// `preferred` when the viewer has it, else the first of kSupportedVideoCodecs the viewer
// has, else kCodecUnsupported.
Expected<VideoCodec> NegotiateVideoCodec(std::span<const uint32_t> peer_codecs,
                                         VideoCodec preferred,
                                         std::optional<VideoCodec> forced);

// One compressed frame. Owned by value; moved from encoder to network to decoder.
struct EncodedFrame {
  VideoCodec codec = VideoCodec::kVp8;
  Size size;
  bool keyframe = false;
  std::vector<uint8_t> data;
  uint64_t frame_id = 0;        // Assigned by the host session, increasing.
  int64_t capture_time_us = 0;  // Host clock, from Frame::capture_time_us().
  int64_t encode_duration_us = 0;
};

}  // namespace lifeline
