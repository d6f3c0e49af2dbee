// Shared by the video decoder fuzz targets (fuzz_vpx_decoder, fuzz_h264_decoder): input
// framing, picture checks and seed encoding.
//
// Input framing: a sequence of frames, each a 16-bit little-endian length and that many
// bytes (a length past the end takes what is left). All frames go to one fresh decoder,
// so keyframe-then-corrupt-delta sequences are reachable. Every kOk picture is checked
// for consistent planes and converted to RGBA.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "capture/frame.h"
#include "codec/video_decoder.h"
#include "codec/video_encoder.h"

namespace lifeline::fuzz {

inline constexpr int kMaxFramesPerInput = 16;

inline void Check(bool condition) {
  if (!condition)
    std::abort();
}

inline void CheckPicture(const lifeline::I420Image& image) {
  const lifeline::Size size = image.size;
  Check(size.width > 0 && size.height > 0);
  Check(size.width <= lifeline::kMaxVideoDimension && size.height <= lifeline::kMaxVideoDimension);
  const size_t luma = static_cast<size_t>(size.width) * static_cast<size_t>(size.height);
  const size_t chroma = static_cast<size_t>(image.stride_uv()) * ((size.height + 1) / 2);
  Check(image.y.size() == luma);
  Check(image.u.size() == chroma);
  Check(image.v.size() == chroma);
  std::vector<uint8_t> rgba;
  lifeline::ConvertI420ToRgba(image, &rgba);
  Check(rgba.size() == luma * 4);
}

// Seed input for `codec`: `first_byte`, then frames of a small moving picture, framed as
// the targets read them.
inline std::vector<uint8_t> EncodeSeed(lifeline::VideoCodec codec,
                                       lifeline::Size size,
                                       int frames,
                                       int force_keyframe_at,
                                       uint8_t first_byte) {
  std::vector<uint8_t> input{first_byte};
  lifeline::EncoderConfig config;
  config.codec = codec;
  config.target_bitrate_kbps = 300;
  config.hardware = lifeline::HardwareEncoding::kOff;
  auto encoder = lifeline::CreateVideoEncoder(config);
  if (!encoder.ok())
    return {};
  for (int i = 0; i < frames; ++i) {
    lifeline::Frame frame(size);
    for (int y = 0; y < size.height; ++y) {
      for (int x = 0; x < size.width; ++x) {
        uint8_t* p = frame.PixelAt(x, y);
        const bool box = x >= 4 + 3 * i && x < 20 + 3 * i && y >= 6 && y < 22;
        p[0] = box ? 30 : static_cast<uint8_t>(x * 4);
        p[1] = box ? 200 : static_cast<uint8_t>(y * 5);
        p[2] = box ? 240 : static_cast<uint8_t>(((x / 3 + y / 5) % 2) * 180);
        p[3] = 255;
      }
    }
    frame.mutable_updated_region()->Add(lifeline::Rect::FromSize(size));
    frame.set_capture_time_us(int64_t{i} * 33'000);
    lifeline::EncodedFrame encoded;
    if ((*encoder)->Encode(frame, i == force_keyframe_at, &encoded) !=
        lifeline::EncodeResult::kOk) {
      continue;
    }
    const size_t length = encoded.data.size();
    if (length > 0xffff)
      return {};
    input.push_back(static_cast<uint8_t>(length & 0xff));
    input.push_back(static_cast<uint8_t>(length >> 8));
    input.insert(input.end(), encoded.data.begin(), encoded.data.end());
  }
  return input;
}

// Feeds the framed frames in `rest` to a fresh decoder for `codec`.
inline void DecodeFramedInput(lifeline::VideoCodec codec, std::span<const uint8_t> rest) {
  auto decoder = lifeline::CreateVideoDecoder(codec);
  Check(decoder.ok());
  lifeline::I420Image image;
  for (int i = 0; i < kMaxFramesPerInput && !rest.empty(); ++i) {
    size_t length = rest.size();
    if (rest.size() >= 2) {
      length = std::min<size_t>(rest[0] | (size_t{rest[1]} << 8), rest.size() - 2);
      rest = rest.subspan(2);
    }
    const std::span<const uint8_t> frame = rest.first(length);
    rest = rest.subspan(length);
    const lifeline::DecodeResult result = (*decoder)->Decode(frame, &image);
    if (result == lifeline::DecodeResult::kOk)
      CheckPicture(image);
    if (result == lifeline::DecodeResult::kError)
      break;
  }
}

}  // namespace lifeline::fuzz
