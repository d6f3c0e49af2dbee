#include "codec/video_codec.h"

#include <string>

namespace lifeline {

std::string_view ToString(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::kVp8:
      return "vp8";
    case VideoCodec::kVp9:
      return "vp9";
    case VideoCodec::kH264:
      return "h264";
  }
  return "unknown";
}

Expected<VideoCodec> ParseVideoCodec(std::string_view text) {
  for (VideoCodec codec : {VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264}) {
    if (text == ToString(codec))
      return codec;
  }
  return Error{ErrorCode::kSettingsInvalid,
               "unknown video codec \"" + std::string(text) + "\" (expected vp8, vp9 or h264)"};
}

}  // namespace lifeline
