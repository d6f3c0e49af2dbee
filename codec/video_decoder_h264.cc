#include "codec/video_decoder_h264.h"

#include <cstring>
#include <string>

#include <libyuv/planar_functions.h>

#include "base/log.h"

namespace lifeline {

namespace internal {

bool H264ContainsIdr(std::span<const uint8_t> data) {
  constexpr uint8_t kNalTypeMask = 0x1f;
  constexpr uint8_t kNalIdrSlice = 5;
  for (size_t i = 0; i + 3 < data.size(); ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if ((data[i + 3] & kNalTypeMask) == kNalIdrSlice)
        return true;
      i += 2;
    }
  }
  return false;
}

}  // namespace internal

Expected<std::unique_ptr<H264VideoDecoder>> H264VideoDecoder::Create() {
  internal::RouteAvLogOnce();
  std::unique_ptr<H264VideoDecoder> decoder(new H264VideoDecoder());
  decoder->picture_.reset(av_frame_alloc());
  decoder->packet_.reset(av_packet_alloc());
  if (!decoder->picture_ || !decoder->packet_)
    return Error{ErrorCode::kDecoderInitFailed, "out of memory for the H.264 decoder"};
  if (Status status = decoder->Restart(); !status.ok())
    return status.error();
  return decoder;
}

H264VideoDecoder::~H264VideoDecoder() = default;

Status H264VideoDecoder::Restart() {
  context_.reset();
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  if (codec == nullptr)
    return Status(ErrorCode::kDecoderInitFailed, "this libavcodec has no H.264 decoder");
  internal::ScopedAvCodecContext context(avcodec_alloc_context3(codec));
  if (!context)
    return Status(ErrorCode::kDecoderInitFailed, "out of memory for the H.264 decoder");
  context->flags |= AV_CODEC_FLAG_LOW_DELAY;
  context->thread_count = 1;  // Frame threads add a frame of delay per thread.
  context->err_recognition = AV_EF_EXPLODE | AV_EF_BITSTREAM | AV_EF_BUFFER;
  context->max_pixels = int64_t{kMaxVideoDimension} * kMaxVideoDimension;
  if (int err = avcodec_open2(context.get(), codec, nullptr); err < 0) {
    return Status(ErrorCode::kDecoderInitFailed,
                  internal::AvErrorText("cannot open the H.264 decoder", err));
  }
  context_ = std::move(context);
  return Status::Ok();
}

DecodeResult H264VideoDecoder::NeedKeyframe(std::string_view reason) {
  if (!waiting_for_keyframe_)
    log::Debug("decoder: H.264 {}; waiting for a keyframe", reason);
  waiting_for_keyframe_ = true;
  if (Status status = Restart(); !status.ok()) {
    log::Error("decoder: {}", status.ToString());
    return DecodeResult::kError;
  }
  return DecodeResult::kNeedKeyframe;
}

DecodeResult H264VideoDecoder::Decode(std::span<const uint8_t> data, I420Image* out) {
  if (!context_)
    return NeedKeyframe("decoder was not open");
  if (data.empty() || data.size() > kMaxEncodedFrameBytes)
    return NeedKeyframe("empty or oversized frame");
  if (waiting_for_keyframe_ && !internal::H264ContainsIdr(data))
    return DecodeResult::kNeedKeyframe;
  // av_new_packet adds the zeroed padding the bitstream reader needs.
  if (av_new_packet(packet_.get(), static_cast<int>(data.size())) < 0)
    return NeedKeyframe("out of memory for a packet");
  std::memcpy(packet_->data, data.data(), data.size());
  int err = avcodec_send_packet(context_.get(), packet_.get());
  av_packet_unref(packet_.get());
  if (err < 0)
    return NeedKeyframe(internal::AvErrorText("packet refused", err));
  // Low delay, no B-frames: the picture of this packet comes out now, or never.
  bool got_picture = false;
  while ((err = avcodec_receive_frame(context_.get(), picture_.get())) >= 0) {
    AVFrame* p = picture_.get();
    const bool usable = (p->format == AV_PIX_FMT_YUV420P || p->format == AV_PIX_FMT_YUVJ420P) &&
                        p->width > 0 && p->height > 0 && p->width <= kMaxVideoDimension &&
                        p->height <= kMaxVideoDimension && p->decode_error_flags == 0 &&
                        !(p->flags & AV_FRAME_FLAG_CORRUPT);
    if (!usable) {
      av_frame_unref(p);
      return NeedKeyframe("picture corrupt, too large or not 4:2:0");
    }
    out->Allocate(Size{p->width, p->height});
    libyuv::I420Copy(p->data[0], p->linesize[0], p->data[1], p->linesize[1], p->data[2],
                     p->linesize[2], out->y.data(), out->stride_y(), out->u.data(),
                     out->stride_uv(), out->v.data(), out->stride_uv(), p->width, p->height);
    av_frame_unref(p);
    got_picture = true;
  }
  if (err != AVERROR(EAGAIN))
    return NeedKeyframe(internal::AvErrorText("decoding failed", err));
  if (!got_picture)
    return NeedKeyframe("no picture in the frame");
  waiting_for_keyframe_ = false;
  return DecodeResult::kOk;
}

}  // namespace lifeline
