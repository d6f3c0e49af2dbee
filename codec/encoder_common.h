// Pieces every encoder adapter shares: configuration checks and the BGRA to I420
// conversion of one damaged rectangle. Internal to codec/.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "capture/frame.h"
#include "codec/video_encoder.h"

namespace lifeline::internal {

inline constexpr int kMaxEncoderThreads = 16;

// kEncoderInitFailed naming the bad field (bitrate, frame rate, threads); Ok otherwise.
Status ValidateEncoderConfig(const EncoderConfig& config);

// False (and an error in the log) for frames no encoder takes: empty, without pixels, or
// larger than kMaxVideoDimension on a side.
bool CheckEncodableFrame(const Frame& frame);

// Planes of an I420 picture the encoder owns.
struct I420Planes {
  uint8_t* y = nullptr;
  int stride_y = 0;
  uint8_t* u = nullptr;
  int stride_u = 0;
  uint8_t* v = nullptr;
  int stride_v = 0;
};

// Converts the BGRA pixels of `rect` (clipped to the frame) into `planes`, widened to even
// coordinates so every chroma sample it touches is recomputed. Returns the pixels
// converted.
int64_t ConvertRectToI420(const Frame& frame, const Rect& rect, const I420Planes& planes);

}  // namespace lifeline::internal
