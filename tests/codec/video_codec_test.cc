// Codec names, factories, I420 helpers and the VP9 header checks.
#include <catch2/catch.hpp>

#include <cstring>

#include "codec/video_codec.h"
#include "codec/video_decoder.h"
#include "codec/video_decoder_vpx.h"
#include "codec/video_encoder.h"
#include "tests/codec/codec_test_util.h"

namespace lifeline {
namespace {

TEST_CASE("video codec names round-trip", "[codec]") {
  for (VideoCodec codec : {VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264}) {
    auto parsed = ParseVideoCodec(ToString(codec));
    REQUIRE(parsed.ok());
    CHECK(*parsed == codec);
  }
  CHECK(ToString(VideoCodec::kVp8) == "vp8");
  CHECK(ToString(VideoCodec::kVp9) == "vp9");
  CHECK(ToString(VideoCodec::kH264) == "h264");
  // Wire numbers are stable.
  CHECK(static_cast<int>(VideoCodec::kVp8) == 1);
  CHECK(static_cast<int>(VideoCodec::kVp9) == 2);
  CHECK(static_cast<int>(VideoCodec::kH264) == 3);
}

TEST_CASE("unknown codec names are a settings error naming the value", "[codec]") {
  for (const char* text : {"av1", "", "VP8 ", "vp"}) {
    auto parsed = ParseVideoCodec(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kSettingsInvalid);
    CHECK(parsed.error().message.find('"' + std::string(text) + '"') != std::string::npos);
  }
}

TEST_CASE("H.264 is available in software; unknown codecs are refused", "[codec]") {
  EncoderConfig config;
  config.codec = VideoCodec::kH264;
  config.hardware = HardwareEncoding::kOff;
  auto encoder = CreateVideoEncoder(config);
  REQUIRE(encoder.ok());
  CHECK((*encoder)->codec() == VideoCodec::kH264);
  CHECK((*encoder)->implementation() == "libx264");
  // With hardware allowed, a machine without a GPU encoder still gets one that works.
  config.hardware = HardwareEncoding::kAuto;
  auto any = CreateVideoEncoder(config);
  REQUIRE(any.ok());
  CHECK_FALSE((*any)->implementation().empty());
  auto decoder = CreateVideoDecoder(VideoCodec::kH264);
  REQUIRE(decoder.ok());
  CHECK((*decoder)->codec() == VideoCodec::kH264);
  auto unknown = CreateVideoDecoder(static_cast<VideoCodec>(77));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kCodecUnsupported);
  config.codec = static_cast<VideoCodec>(77);
  auto unknown_encoder = CreateVideoEncoder(config);
  REQUIRE_FALSE(unknown_encoder.ok());
  CHECK(unknown_encoder.error().code == ErrorCode::kCodecUnsupported);
}

TEST_CASE("invalid encoder settings fail at creation", "[codec]") {
  EncoderConfig config;
  config.codec = GENERATE(VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264);
  SECTION("bitrate") {
    config.target_bitrate_kbps = 0;
  }
  SECTION("fps") {
    config.max_fps = 0;
  }
  SECTION("threads") {
    config.threads = -1;
  }
  auto encoder = CreateVideoEncoder(config);
  REQUIRE_FALSE(encoder.ok());
  CHECK(encoder.error().code == ErrorCode::kEncoderInitFailed);
}

TEST_CASE("encoder refuses empty and oversized frames", "[codec]") {
  const VideoCodec codec = GENERATE(VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264);
  EncoderConfig config;
  config.codec = codec;
  auto encoder = CreateVideoEncoder(config);
  REQUIRE(encoder.ok());
  EncodedFrame out;
  Frame empty(Size{0, 0});
  CHECK((*encoder)->Encode(empty, false, &out) == EncodeResult::kError);
  Frame too_wide(Size{kMaxVideoDimension + 2, 2});
  too_wide.mutable_updated_region()->Add(Rect::FromSize(too_wide.size()));
  CHECK((*encoder)->Encode(too_wide, false, &out) == EncodeResult::kError);
  // Still usable afterwards.
  auto frame = codec_testing::MakeScreenFrame(Size{64, 48}, Rect{4, 4, 20, 20});
  CHECK((*encoder)->Encode(*frame, false, &out) == EncodeResult::kOk);
  CHECK(out.keyframe);
}

TEST_CASE("I420Image::Allocate sizes planes for odd dimensions", "[codec]") {
  I420Image image;
  image.Allocate(Size{5, 3});
  CHECK(image.size == Size{5, 3});
  CHECK(image.y.size() == 15u);
  CHECK(image.u.size() == 6u);  // 3 x 2
  CHECK(image.v.size() == 6u);
  CHECK(image.stride_y() == 5);
  CHECK(image.stride_uv() == 3);
  image.Allocate(Size{0, 7});
  CHECK(image.y.empty());
  CHECK(image.u.empty());
}

// BT.601 limited range: Y, U, V of pure red, green and blue.
struct Yuv {
  uint8_t y, u, v;
};

TEST_CASE("ConvertI420ToRgba writes R, G, B, A in memory", "[codec]") {
  const struct {
    Yuv yuv;
    uint8_t r, g, b;
  } kCases[] = {
      {{81, 90, 240}, 255, 0, 0},
      {{145, 54, 34}, 0, 255, 0},
      {{41, 240, 110}, 0, 0, 255},
      {{235, 128, 128}, 255, 255, 255},
  };
  for (const auto& c : kCases) {
    I420Image image;
    image.Allocate(Size{3, 3});  // Odd: the last chroma sample covers one column/row.
    std::memset(image.y.data(), c.yuv.y, image.y.size());
    std::memset(image.u.data(), c.yuv.u, image.u.size());
    std::memset(image.v.data(), c.yuv.v, image.v.size());
    std::vector<uint8_t> rgba;
    ConvertI420ToRgba(image, &rgba);
    REQUIRE(rgba.size() == 3u * 3 * 4);
    for (size_t i = 0; i < rgba.size(); i += 4) {
      CAPTURE(i, int(c.r), int(c.g), int(c.b), int(rgba[i]), int(rgba[i + 1]), int(rgba[i + 2]));
      CHECK(std::abs(rgba[i] - c.r) <= 3);
      CHECK(std::abs(rgba[i + 1] - c.g) <= 3);
      CHECK(std::abs(rgba[i + 2] - c.b) <= 3);
      CHECK(rgba[i + 3] == 255);
    }
  }
}

TEST_CASE("ConvertI420ToRgba of an empty or inconsistent image gives nothing", "[codec]") {
  std::vector<uint8_t> rgba{1, 2, 3};
  I420Image empty;
  ConvertI420ToRgba(empty, &rgba);
  CHECK(rgba.empty());
  I420Image short_planes;
  short_planes.size = Size{16, 16};
  short_planes.y.resize(10);
  rgba = {1};
  ConvertI420ToRgba(short_planes, &rgba);
  CHECK(rgba.empty());
}

// Writes big-endian bit fields, to build VP9 headers.
class BitWriter {
 public:
  void Put(uint32_t value, int bits) {
    for (int i = bits - 1; i >= 0; --i) {
      if (count_ % 8 == 0)
        bytes_.push_back(0);
      if ((value >> i) & 1)
        bytes_.back() |= static_cast<uint8_t>(0x80 >> (count_ % 8));
      ++count_;
    }
  }
  std::vector<uint8_t> bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  int count_ = 0;
};

// A profile 0 VP9 inter frame header that codes its own size, plus padding.
std::vector<uint8_t> Vp9InterFrameWithSize(int width, int height) {
  BitWriter w;
  w.Put(2, 2);  // frame_marker
  w.Put(0, 2);  // profile 0
  w.Put(0, 1);  // show_existing_frame
  w.Put(1, 1);  // frame_type: non-key
  w.Put(1, 1);  // show_frame
  w.Put(0, 1);  // error_resilient_mode
  w.Put(0, 2);  // reset_frame_context
  w.Put(1, 8);  // refresh_frame_flags
  for (int i = 0; i < 3; ++i)
    w.Put(0, 4);  // ref_frame_idx, sign_bias
  w.Put(0, 3);    // found_ref x3: none
  w.Put(static_cast<uint32_t>(width - 1), 16);
  w.Put(static_cast<uint32_t>(height - 1), 16);
  std::vector<uint8_t> bytes = w.bytes();
  bytes.resize(bytes.size() + 64, 0x55);
  return bytes;
}

TEST_CASE("VP9 header parser reads sizes of real frames", "[codec]") {
  EncoderConfig config;
  config.codec = VideoCodec::kVp9;
  auto encoder = CreateVideoEncoder(config);
  REQUIRE(encoder.ok());
  EncodedFrame key;
  auto frame = codec_testing::MakeScreenFrame(Size{99, 51}, Rect{4, 4, 20, 20}, 1, 0);
  REQUIRE((*encoder)->Encode(*frame, false, &key) == EncodeResult::kOk);
  internal::Vp9FrameHeader header;
  REQUIRE(internal::ParseVp9FrameHeader(key.data, &header));
  CHECK(header.keyframe);
  CHECK(header.has_size);
  CHECK(header.width == 99);
  CHECK(header.height == 51);

  auto next = codec_testing::MakeScreenFrame(Size{99, 51}, Rect{8, 4, 20, 20}, 1, 1);
  EncodedFrame delta;
  REQUIRE((*encoder)->Encode(*next, false, &delta) == EncodeResult::kOk);
  REQUIRE(internal::ParseVp9FrameHeader(delta.data, &header));
  CHECK_FALSE(header.keyframe);
  CHECK_FALSE(header.has_size);

  std::vector<std::span<const uint8_t>> frames;
  REQUIRE(internal::SplitVp9Superframe(delta.data, &frames));
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].size() == delta.data.size());

  const auto crafted = Vp9InterFrameWithSize(10000, 20);
  REQUIRE(internal::ParseVp9FrameHeader(crafted, &header));
  CHECK(header.has_size);
  CHECK(header.width == 10000);
  CHECK(header.height == 20);
  CHECK_FALSE(internal::ParseVp9FrameHeader(std::vector<uint8_t>{0x82}, &header));
}

TEST_CASE("VP9 superframe index is split like libvpx does", "[codec]") {
  // Two frames of 3 and 2 bytes, one-byte sizes: marker 0b11000001.
  const std::vector<uint8_t> data{1, 2, 3, 4, 5, 0xc1, 3, 2, 0xc1};
  std::vector<std::span<const uint8_t>> frames;
  REQUIRE(internal::SplitVp9Superframe(data, &frames));
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].size() == 3);
  CHECK(frames[0][0] == 1);
  CHECK(frames[1].size() == 2);
  CHECK(frames[1][0] == 4);
  // Sizes beyond the data, or a missing leading marker, are invalid.
  CHECK_FALSE(internal::SplitVp9Superframe(std::vector<uint8_t>{1, 2, 0xc1, 3, 9, 0xc1}, &frames));
  CHECK_FALSE(internal::SplitVp9Superframe(std::vector<uint8_t>{1, 2, 3, 0xc0, 3, 0xc1}, &frames));
}

TEST_CASE("decoders refuse frames larger than the size limit", "[codec]") {
  const VideoCodec codec = GENERATE(VideoCodec::kVp8, VideoCodec::kVp9);
  CAPTURE(ToString(codec));
  EncoderConfig config;
  config.codec = codec;
  auto encoder = CreateVideoEncoder(config);
  REQUIRE(encoder.ok());
  auto decoder = CreateVideoDecoder(codec);
  REQUIRE(decoder.ok());
  auto frame = codec_testing::MakeScreenFrame(Size{64, 48}, Rect{4, 4, 20, 20}, 1, 0);
  EncodedFrame key;
  REQUIRE((*encoder)->Encode(*frame, false, &key) == EncodeResult::kOk);
  I420Image decoded;

  if (codec == VideoCodec::kVp8) {
    // VP8 keyframe: 3-byte tag, start code 9d 01 2a, then 14-bit width and height.
    std::vector<uint8_t> big = key.data;
    REQUIRE(big.size() > 10);
    REQUIRE(big[3] == 0x9d);
    const int width = 9000;
    big[6] = static_cast<uint8_t>(width & 0xff);
    big[7] = static_cast<uint8_t>(width >> 8);
    CHECK((*decoder)->Decode(big, &decoded) == DecodeResult::kNeedKeyframe);
    REQUIRE((*decoder)->Decode(key.data, &decoded) == DecodeResult::kOk);
  } else {
    REQUIRE((*decoder)->Decode(key.data, &decoded) == DecodeResult::kOk);
    // An inter frame that resizes past the limit never reaches libvpx.
    CHECK((*decoder)->Decode(Vp9InterFrameWithSize(10000, 20), &decoded) ==
          DecodeResult::kNeedKeyframe);
    // Also when hidden behind a valid frame in a superframe.
    std::vector<uint8_t> super = key.data;
    const auto bad = Vp9InterFrameWithSize(9000, 9000);
    super.insert(super.end(), bad.begin(), bad.end());
    super.push_back(0xd9);  // 2 frames, 2-byte sizes.
    for (size_t size : {key.data.size(), bad.size()}) {
      super.push_back(static_cast<uint8_t>(size & 0xff));
      super.push_back(static_cast<uint8_t>(size >> 8));
    }
    super.push_back(0xd9);
    CHECK((*decoder)->Decode(super, &decoded) == DecodeResult::kNeedKeyframe);
    REQUIRE((*decoder)->Decode(key.data, &decoded) == DecodeResult::kOk);
  }
  CHECK(decoded.size == Size{64, 48});
}

}  // namespace
}  // namespace lifeline

namespace lifeline {
namespace {

TEST_CASE("codec negotiation: preferred, then the first both have; forced or nothing", "[codec]") {
  const std::vector<uint32_t> vp9_h264 = {2, 3};
  const std::vector<uint32_t> vp8_only = {1};
  const std::vector<uint32_t> none = {9};
  CHECK(NegotiateVideoCodec(vp9_h264, VideoCodec::kH264, std::nullopt).value() ==
        VideoCodec::kH264);
  CHECK(NegotiateVideoCodec(vp9_h264, VideoCodec::kVp8, std::nullopt).value() == VideoCodec::kVp9);
  CHECK(NegotiateVideoCodec(vp8_only, VideoCodec::kH264, std::nullopt).value() == VideoCodec::kVp8);
  CHECK(NegotiateVideoCodec(vp9_h264, VideoCodec::kVp8, VideoCodec::kH264).value() ==
        VideoCodec::kH264);
  auto forced = NegotiateVideoCodec(vp8_only, VideoCodec::kVp8, VideoCodec::kH264);
  REQUIRE_FALSE(forced.ok());
  CHECK(forced.error().code == ErrorCode::kCodecUnsupported);
  CHECK(forced.error().message.find("h264") != std::string::npos);
  auto nothing = NegotiateVideoCodec(none, VideoCodec::kVp8, std::nullopt);
  REQUIRE_FALSE(nothing.ok());
  CHECK(nothing.error().code == ErrorCode::kCodecUnsupported);
}

}  // namespace
}  // namespace lifeline
