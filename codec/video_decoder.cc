#include "codec/video_decoder.h"

#include <algorithm>
#include <string>

#include <libyuv/convert_argb.h>
#include <libyuv/planar_functions.h>

#include "codec/video_decoder_h264.h"
#include "codec/video_decoder_vpx.h"

namespace lifeline {

void I420Image::Allocate(Size new_size) {
  size = new_size.empty() ? Size{} : new_size;
  const size_t luma = static_cast<size_t>(size.width) * static_cast<size_t>(size.height);
  const size_t chroma =
      static_cast<size_t>((size.width + 1) / 2) * static_cast<size_t>((size.height + 1) / 2);
  y.resize(luma);
  u.resize(chroma);
  v.resize(chroma);
}

void ConvertI420ToRgba(const I420Image& image, std::vector<uint8_t>* rgba) {
  const Size size = image.size;
  const size_t luma = static_cast<size_t>(std::max(size.width, 0)) * std::max(size.height, 0);
  const size_t chroma =
      static_cast<size_t>((std::max(size.width, 0) + 1) / 2) * ((std::max(size.height, 0) + 1) / 2);
  if (size.empty() || image.y.size() < luma || image.u.size() < chroma || image.v.size() < chroma) {
    rgba->clear();
    return;
  }
  rgba->resize(luma * 4);
  // libyuv names formats by 32-bit word order, little-endian: "ABGR" is R, G, B, A in
  // memory.
  libyuv::I420ToABGR(image.y.data(), image.stride_y(), image.u.data(), image.stride_uv(),
                     image.v.data(), image.stride_uv(), rgba->data(), size.width * 4, size.width,
                     size.height);
}

DecodeResult FitDecodedToAnnouncedSize(Size announced, I420Image* image) {
  if (image->size == announced)
    return DecodeResult::kOk;
  // H.264 4:2:0 codes odd sides one larger: crop that padding.
  const bool padded = (announced.width & 1 || announced.height & 1) &&
                      image->size.width == ((announced.width + 1) & ~1) &&
                      image->size.height == ((announced.height + 1) & ~1);
  if (!padded || announced.empty())
    return DecodeResult::kNeedKeyframe;
  I420Image cropped;
  cropped.Allocate(announced);
  libyuv::I420Copy(image->y.data(), image->stride_y(), image->u.data(), image->stride_uv(),
                   image->v.data(), image->stride_uv(), cropped.y.data(), cropped.stride_y(),
                   cropped.u.data(), cropped.stride_uv(), cropped.v.data(), cropped.stride_uv(),
                   announced.width, announced.height);
  *image = std::move(cropped);
  return DecodeResult::kOk;
}

Expected<std::unique_ptr<VideoDecoder>> CreateVideoDecoder(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::kVp8:
    case VideoCodec::kVp9: {
      auto decoder = VpxVideoDecoder::Create(codec);
      if (!decoder.ok())
        return decoder.error();
      return std::unique_ptr<VideoDecoder>(std::move(decoder).value());
    }
    case VideoCodec::kH264: {
      auto decoder = H264VideoDecoder::Create();
      if (!decoder.ok())
        return decoder.error();
      return std::unique_ptr<VideoDecoder>(std::move(decoder).value());
    }
  }
  return Error{ErrorCode::kCodecUnsupported,
               "unknown video codec number " + std::to_string(static_cast<int>(codec))};
}

}  // namespace lifeline
