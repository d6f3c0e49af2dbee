#include "codec/video_codec.h"

#include <algorithm>
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

Expected<VideoCodec> NegotiateVideoCodec(std::span<const uint32_t> peer_codecs,
                                         VideoCodec preferred,
                                         std::optional<VideoCodec> forced) {
  auto peer_has = [&](VideoCodec codec) {
    return std::find(peer_codecs.begin(), peer_codecs.end(), static_cast<uint32_t>(codec)) !=
           peer_codecs.end();
  };
  if (forced) {
    if (peer_has(*forced))
      return *forced;
    return Error{ErrorCode::kCodecUnsupported,
                 "the viewer cannot decode " + std::string(ToString(*forced)) +
                     ", the codec this host was told to use (--codec)"};
  }
  if (peer_has(preferred))
    return preferred;
  for (VideoCodec codec : kSupportedVideoCodecs) {
    if (peer_has(codec))
      return codec;
  }
  return Error{ErrorCode::kCodecUnsupported,
               "the viewer supports none of the codecs this host can encode"};
}

}  // namespace lifeline
