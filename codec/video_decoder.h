// VideoDecoder: compressed frames in, I420 images out.
//
// Threading: a decoder is created, used and destroyed on one thread (the viewer's decode
// thread, owned by ViewerSession). It never calls back.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/geometry.h"
#include "base/status.h"
#include "codec/video_codec.h"

namespace lifeline {

// A decoded picture, planar YUV 4:2:0 (BT.601 limited range), tightly packed planes.
struct I420Image {
  Size size;
  std::vector<uint8_t> y;  // width * height
  std::vector<uint8_t> u;  // ((width + 1) / 2) * ((height + 1) / 2)
  std::vector<uint8_t> v;
  int stride_y() const { return size.width; }
  int stride_uv() const { return (size.width + 1) / 2; }
  // Resizes the planes for `new_size`.
  void Allocate(Size new_size);
};

// Converts to RGBA8 (R, G, B, A bytes in memory), `rgba` resized to width*height*4.
void ConvertI420ToRgba(const I420Image& image, std::vector<uint8_t>* rgba);

enum class DecodeResult {
  kOk,            // `*out` holds the new picture.
  kNeedKeyframe,  // The data cannot be decoded without a keyframe (lost or corrupt
                  // reference); ask the host for one and drop frames until it comes.
  kError,         // The decoder itself failed; the session should end.
};

class VideoDecoder {
 public:
  virtual ~VideoDecoder() = default;

  // Decodes one whole encoded frame. Hostile input is expected: it yields kNeedKeyframe
  // or kError, never a crash.
  virtual DecodeResult Decode(std::span<const uint8_t> data, I420Image* out) = 0;

  virtual VideoCodec codec() const = 0;
};

// Checks a decoded picture against the size the host announced for the frame (security
// requirement 22: a picture of another size is refused). kOk when they are equal, or when
// an H.264 picture of an odd announced size was coded one larger (the padding is
// cropped); kNeedKeyframe otherwise.
DecodeResult FitDecodedToAnnouncedSize(Size announced, I420Image* image);

// Errors: kCodecUnsupported, kDecoderInitFailed.
Expected<std::unique_ptr<VideoDecoder>> CreateVideoDecoder(VideoCodec codec);

}  // namespace lifeline
