// VideoEncoder: BGRA frames in, compressed frames out.
//
// Threading: an encoder is created, used and destroyed on one thread (the host's encode
// thread, owned by HostSession). It never calls back.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "base/status.h"
#include "capture/frame.h"
#include "codec/video_codec.h"

namespace lifeline {

// Whether a GPU encoder may be used (H.264 only; software always remains the fallback).
enum class HardwareEncoding {
  kAuto,  // Use one when present and it opens; otherwise software.
  kOff,   // Software only (tests, benchmarks, comparisons).
};

struct EncoderConfig {
  VideoCodec codec = VideoCodec::kVp8;
  int target_bitrate_kbps = 4000;
  int max_fps = 30;
  int threads = 0;  // 0: sized to the machine.
  HardwareEncoding hardware = HardwareEncoding::kAuto;
};

// What the last Encode call spent its time on (zero for the parts it did not run).
struct EncodeTimings {
  int64_t convert_us = 0;        // BGRA to I420 of the updated area.
  int64_t encode_us = 0;         // The codec library's encode and packet collection.
  int64_t converted_pixels = 0;  // Pixels converted (the updated area, rounded to even).
};

enum class EncodeResult {
  kOk,       // `*out` holds a frame to send.
  kSkipped,  // Nothing changed (empty updated region) and no keyframe was due: send nothing.
  kError,    // The encoder failed; the session should end with kEncodeFailed.
};

class VideoEncoder {
 public:
  virtual ~VideoEncoder() = default;

  // Encodes `frame`. The frame size may change between calls; the encoder then restarts
  // at the new size and emits a keyframe. `force_keyframe` asks for a keyframe now (the
  // viewer lost data). On kOk, `out->data`, `size`, `keyframe`, `codec` and
  // `encode_duration_us` are set; the caller fills `frame_id` and `capture_time_us`.
  virtual EncodeResult Encode(const Frame& frame, bool force_keyframe, EncodedFrame* out) = 0;

  // Encodes the current picture again at refresh quality (a low quantizer cap), whatever
  // `frame`'s updated region says: the host calls it once the screen has been still for a
  // moment, so text that real-time rate control left blurry becomes sharp. A delta frame
  // (only the residual is coded), larger than usual once. Before the first Encode() or at
  // a new size it behaves like Encode(). Same results as Encode().
  virtual EncodeResult EncodeRefresh(const Frame& frame, EncodedFrame* out) = 0;

  // Changes the target bitrate from the next frame on.
  virtual void SetTargetBitrate(int bitrate_kbps) = 0;

  virtual VideoCodec codec() const = 0;

  // Timings of the last Encode / EncodeRefresh call (benchmark and stats).
  virtual const EncodeTimings& last_timings() const = 0;

  // The library doing the work, for logs and the stats panel: "libvpx", "libx264",
  // "h264_nvenc".
  virtual std::string_view implementation() const = 0;
};

// Creates an encoder; frames define the size. Errors: kCodecUnsupported,
// kEncoderInitFailed.
Expected<std::unique_ptr<VideoEncoder>> CreateVideoEncoder(const EncoderConfig& config);

}  // namespace lifeline
