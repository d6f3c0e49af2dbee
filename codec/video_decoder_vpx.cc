#include "codec/video_decoder_vpx.h"

#include <string>

#include <libyuv/convert.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>

#include "base/log.h"

namespace lifeline {
namespace {

vpx_codec_iface_t* DecoderInterface(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::kVp8:
      return vpx_codec_vp8_dx();
    case VideoCodec::kVp9:
      return vpx_codec_vp9_dx();
    case VideoCodec::kH264:
      break;
  }
  return nullptr;
}

bool SizeAllowed(int64_t width, int64_t height) {
  return width > 0 && height > 0 && width <= kMaxVideoDimension && height <= kMaxVideoDimension;
}

// Reads big-endian bit fields; past the end it returns zeros and remembers the overrun.
class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> data) : data_(data) {}

  uint32_t Read(int bits) {
    uint32_t value = 0;
    for (int i = 0; i < bits; ++i) {
      if (position_ >= data_.size() * 8) {
        overrun_ = true;
        return 0;
      }
      const uint32_t bit = (data_[position_ / 8] >> (7 - position_ % 8)) & 1u;
      value = (value << 1) | bit;
      ++position_;
    }
    return value;
  }
  bool overrun() const { return overrun_; }

 private:
  std::span<const uint8_t> data_;
  size_t position_ = 0;
  bool overrun_ = false;
};

// VP9 bitstream constants (VP9 spec, section 6.2).
constexpr uint32_t kVp9FrameMarker = 2;
constexpr uint32_t kVp9SyncCode = 0x498342;
constexpr uint32_t kVp9ColorSpaceSrgb = 7;
constexpr uint8_t kVp9SuperframeMarkerMask = 0xe0;
constexpr uint8_t kVp9SuperframeMarker = 0xc0;

}  // namespace

namespace internal {

bool ParseVp9FrameHeader(std::span<const uint8_t> frame, Vp9FrameHeader* header) {
  *header = Vp9FrameHeader{};
  BitReader reader(frame);
  if (reader.Read(2) != kVp9FrameMarker)
    return false;
  uint32_t profile = reader.Read(1);
  profile |= reader.Read(1) << 1;
  if (profile > 2)
    profile += reader.Read(1);  // libvpx rejects the resulting 4.
  if (profile > 3)
    return false;
  if (reader.Read(1)) {  // show_existing_frame
    reader.Read(3);
    header->show_existing_frame = true;
    return !reader.overrun();
  }
  const bool keyframe = reader.Read(1) == 0;  // frame_type 0 is KEY_FRAME.
  const bool show_frame = reader.Read(1) != 0;
  const bool error_resilient = reader.Read(1) != 0;

  auto read_color_config = [&] {
    if (profile >= 2)
      reader.Read(1);  // ten_or_twelve_bit
    const bool high_profile_odd = profile == 1 || profile == 3;
    if (reader.Read(3) != kVp9ColorSpaceSrgb) {
      reader.Read(1);  // color_range
      if (high_profile_odd) {
        const uint32_t subsampling = reader.Read(2);
        if (subsampling == 3)
          return false;  // 4:2:0 is not allowed in profiles 1 and 3.
        if (reader.Read(1))
          return false;  // reserved_zero
      }
      return true;
    }
    if (!high_profile_odd)
      return false;              // 4:4:4 RGB needs profile 1 or 3.
    return reader.Read(1) == 0;  // reserved_zero
  };
  auto read_frame_size = [&] {
    header->has_size = true;
    header->width = static_cast<int>(reader.Read(16)) + 1;
    header->height = static_cast<int>(reader.Read(16)) + 1;
  };

  if (keyframe) {
    header->keyframe = true;
    if (reader.Read(24) != kVp9SyncCode)
      return false;
    if (!read_color_config())
      return false;
    read_frame_size();
    return !reader.overrun();
  }
  header->intra_only = show_frame ? false : reader.Read(1) != 0;
  if (!error_resilient)
    reader.Read(2);  // reset_frame_context
  if (header->intra_only) {
    if (reader.Read(24) != kVp9SyncCode)
      return false;
    if (profile > 0 && !read_color_config())
      return false;
    reader.Read(8);  // refresh_frame_flags
    read_frame_size();
    return !reader.overrun();
  }
  reader.Read(8);  // refresh_frame_flags
  for (int i = 0; i < 3; ++i)
    reader.Read(4);  // ref_frame_idx, sign_bias
  bool found_ref = false;
  for (int i = 0; i < 3 && !found_ref; ++i)
    found_ref = reader.Read(1) != 0;
  if (!found_ref)
    read_frame_size();
  return !reader.overrun();
}

bool SplitVp9Superframe(std::span<const uint8_t> data,
                        std::vector<std::span<const uint8_t>>* frames) {
  frames->clear();
  if (data.empty())
    return false;
  const uint8_t marker = data.back();
  if ((marker & kVp9SuperframeMarkerMask) != kVp9SuperframeMarker) {
    frames->push_back(data);
    return true;
  }
  // Same rules as libvpx's vp9_parse_superframe_index.
  const size_t count = (marker & 0x7u) + 1;
  const size_t size_bytes = ((marker >> 3) & 0x3u) + 1;
  const size_t index_bytes = 2 + size_bytes * count;
  if (data.size() < index_bytes || data[data.size() - index_bytes] != marker)
    return false;
  const uint8_t* entry = data.data() + data.size() - index_bytes + 1;
  size_t offset = 0;
  const size_t payload_bytes = data.size() - index_bytes;
  for (size_t i = 0; i < count; ++i) {
    size_t frame_bytes = 0;
    for (size_t b = 0; b < size_bytes; ++b)
      frame_bytes |= size_t{*entry++} << (8 * b);
    if (frame_bytes > payload_bytes - offset)
      return false;
    frames->push_back(data.subspan(offset, frame_bytes));
    offset += frame_bytes;
  }
  return true;
}

}  // namespace internal

Expected<std::unique_ptr<VpxVideoDecoder>> VpxVideoDecoder::Create(VideoCodec codec) {
  if (!DecoderInterface(codec)) {
    return Error{ErrorCode::kCodecUnsupported,
                 "the libvpx decoder cannot decode " + std::string(ToString(codec))};
  }
  std::unique_ptr<VpxVideoDecoder> decoder(new VpxVideoDecoder(codec));
  if (Status status = decoder->Restart(); !status.ok())
    return status.error();
  return decoder;
}

VpxVideoDecoder::VpxVideoDecoder(VideoCodec codec) : codec_(codec) {}

VpxVideoDecoder::~VpxVideoDecoder() = default;

Status VpxVideoDecoder::Restart() {
  decoder_.reset();
  vpx_codec_dec_cfg_t cfg{};
  cfg.threads = 1;  // Hostile input meets the simplest, most fuzzed code path.
  internal::ScopedVpxCodec decoder(new vpx_codec_ctx_t{});
  if (vpx_codec_err_t err = vpx_codec_dec_init(decoder.get(), DecoderInterface(codec_), &cfg, 0);
      err != VPX_CODEC_OK) {
    Error error{
        ErrorCode::kDecoderInitFailed,
        internal::VpxErrorText("libvpx " + std::string(ToString(codec_)) + " decoder init failed",
                               err, decoder.get())};
    delete decoder.release();  // Nothing to destroy after a failed init.
    return error;
  }
  decoder_ = std::move(decoder);
  return Status::Ok();
}

DecodeResult VpxVideoDecoder::NeedKeyframe(std::string_view reason) {
  if (!waiting_for_keyframe_)
    log::Debug("decoder: {}; waiting for a keyframe", reason);
  waiting_for_keyframe_ = true;
  return DecodeResult::kNeedKeyframe;
}

DecodeResult VpxVideoDecoder::Decode(std::span<const uint8_t> data, I420Image* out) {
  if (!decoder_) {
    if (Status status = Restart(); !status.ok()) {
      log::Error("decoder: {}", status.ToString());
      return DecodeResult::kError;
    }
  }
  if (data.empty())
    return NeedKeyframe("empty frame");
  if (data.size() > kMaxEncodedFrameBytes)
    return NeedKeyframe("frame too large");
  const auto data_bytes = static_cast<unsigned>(data.size());

  vpx_codec_stream_info_t info{};
  info.sz = sizeof(info);
  const bool is_keyframe = vpx_codec_peek_stream_info(DecoderInterface(codec_), data.data(),
                                                      data_bytes, &info) == VPX_CODEC_OK &&
                           info.is_kf;
  if (is_keyframe && !SizeAllowed(info.w, info.h)) {
    return NeedKeyframe("keyframe size " + std::to_string(info.w) + "x" + std::to_string(info.h) +
                        " out of range");
  }
  if (waiting_for_keyframe_ && !is_keyframe)
    return DecodeResult::kNeedKeyframe;

  std::span<const uint8_t> input = data;
  if (codec_ == VideoCodec::kVp9) {
    // libvpx decodes back-to-back VP9 frames found in one buffer, and a frame may change
    // the size up to 16 times its reference's: check every frame's size before libvpx
    // allocates for it, and give libvpx an explicit index so it decodes exactly the frames
    // checked here.
    std::vector<std::span<const uint8_t>> frames;
    if (!internal::SplitVp9Superframe(data, &frames)) {
      return NeedKeyframe("invalid VP9 superframe index");
    }
    for (std::span<const uint8_t> frame : frames) {
      internal::Vp9FrameHeader header;
      if (!internal::ParseVp9FrameHeader(frame, &header)) {
        return NeedKeyframe("invalid VP9 frame header");
      }
      if (header.has_size && !SizeAllowed(header.width, header.height)) {
        return NeedKeyframe("VP9 frame size " + std::to_string(header.width) + "x" +
                            std::to_string(header.height) + " out of range");
      }
    }
    if (frames.size() == 1 && frames[0].size() == data.size()) {
      const uint32_t frame_bytes = data_bytes;
      const uint8_t index_marker = kVp9SuperframeMarker | (3u << 3);  // 1 frame, 4-byte size.
      vp9_buffer_.assign(data.begin(), data.end());
      vp9_buffer_.push_back(index_marker);
      for (int b = 0; b < 4; ++b)
        vp9_buffer_.push_back(static_cast<uint8_t>(frame_bytes >> (8 * b)));
      vp9_buffer_.push_back(index_marker);
      input = vp9_buffer_;
    }
  }

  const vpx_codec_err_t err = vpx_codec_decode(decoder_.get(), input.data(),
                                               static_cast<unsigned>(input.size()), nullptr, 0);
  if (err != VPX_CODEC_OK) {
    const std::string text = internal::VpxErrorText("vpx_codec_decode failed", err, decoder_.get());
    if (Status status = Restart(); !status.ok()) {
      log::Error("decoder: {}; {}", text, status.ToString());
      return DecodeResult::kError;
    }
    // Every libvpx error code, VPX_CODEC_MEM_ERROR included, also comes from corrupt data
    // (VP9 reports a bad bool-decoder marker bit as a memory error), so none of them means
    // the decoder cannot go on: the restarted decoder waits for a keyframe.
    return NeedKeyframe(text);
  }
  int corrupted = 0;
  if (vpx_codec_control(decoder_.get(), VP8D_GET_FRAME_CORRUPTED, &corrupted) == VPX_CODEC_OK &&
      corrupted) {
    return NeedKeyframe("corrupt frame");
  }

  vpx_codec_iter_t iter = nullptr;
  const vpx_image_t* image = nullptr;
  while (const vpx_image_t* next = vpx_codec_get_frame(decoder_.get(), &iter))
    image = next;
  if (!image)
    return NeedKeyframe("the frame produced no picture");
  if (image->fmt != VPX_IMG_FMT_I420 || image->bit_depth != 8 || image->x_chroma_shift != 1 ||
      image->y_chroma_shift != 1) {
    return NeedKeyframe("unsupported picture format " + std::to_string(image->fmt));
  }
  if (!SizeAllowed(image->d_w, image->d_h)) {
    return NeedKeyframe("picture size " + std::to_string(image->d_w) + "x" +
                        std::to_string(image->d_h) + " out of range");
  }

  const Size size{static_cast<int>(image->d_w), static_cast<int>(image->d_h)};
  out->Allocate(size);
  libyuv::I420Copy(image->planes[VPX_PLANE_Y], image->stride[VPX_PLANE_Y],
                   image->planes[VPX_PLANE_U], image->stride[VPX_PLANE_U],
                   image->planes[VPX_PLANE_V], image->stride[VPX_PLANE_V], out->y.data(),
                   out->stride_y(), out->u.data(), out->stride_uv(), out->v.data(),
                   out->stride_uv(), size.width, size.height);
  waiting_for_keyframe_ = false;
  return DecodeResult::kOk;
}

}  // namespace lifeline
