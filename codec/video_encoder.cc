#include "codec/video_encoder.h"

#include <string>

#include "codec/video_encoder_h264.h"
#include "codec/video_encoder_vpx.h"

namespace lifeline {

Expected<std::unique_ptr<VideoEncoder>> CreateVideoEncoder(const EncoderConfig& config) {
  switch (config.codec) {
    case VideoCodec::kVp8:
    case VideoCodec::kVp9: {
      auto encoder = VpxVideoEncoder::Create(config);
      if (!encoder.ok())
        return encoder.error();
      return std::unique_ptr<VideoEncoder>(std::move(encoder).value());
    }
    case VideoCodec::kH264: {
      auto encoder = H264VideoEncoder::Create(config);
      if (!encoder.ok())
        return encoder.error();
      return std::unique_ptr<VideoEncoder>(std::move(encoder).value());
    }
  }
  return Error{ErrorCode::kCodecUnsupported,
               "unknown video codec number " + std::to_string(static_cast<int>(config.codec))};
}

}  // namespace lifeline
