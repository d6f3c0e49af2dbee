// End to end with the synthetic capturer: its frames, with its damage, through every
// encoder/decoder pair, must come out readable (frame counter) and close to the source.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "capture/synthetic_capturer.h"
#include "codec/video_decoder.h"
#include "codec/video_encoder.h"
#include "tests/codec/codec_test_util.h"

namespace lifeline {
namespace {

// The synthetic background has 1-pixel colour detail that 4:2:0 chroma subsampling alone
// takes down to 27.8 dB (BGRA -> I420 -> RGBA with no codec). Measured with libvpx 1.12 at
// 1280x720, 3 Mbit/s: VP8 and VP9 give 27.0-27.9 dB, i.e. the codec adds almost nothing.
// 25 dB still fails on any colour, stride or plane mix-up (< 15 dB).
constexpr double kMinPsnrDb = 25.0;

TEST_CASE("synthetic capturer frames round-trip through every codec", "[codec]") {
  const VideoCodec codec = GENERATE(VideoCodec::kVp8, VideoCodec::kVp9);
  CAPTURE(ToString(codec));
  EncoderConfig config;
  config.codec = codec;
  config.target_bitrate_kbps = 3000;
  auto encoder = CreateVideoEncoder(config);
  REQUIRE(encoder.ok());
  auto decoder = CreateVideoDecoder(codec);
  REQUIRE(decoder.ok());

  SyntheticCapturer capturer(Size{1280, 720});
  int encoded_frames = 0;
  for (int i = 0; i < 12; ++i) {
    CAPTURE(i);
    if (i == 8)
      capturer.SetSize(Size{800, 600});
    std::unique_ptr<Frame> frame;
    REQUIRE(capturer.CaptureFrame(&frame) == CaptureResult::kSuccess);
    frame->set_capture_time_us(1'000'000 + int64_t{i} * 33'333);
    EncodedFrame encoded;
    const EncodeResult result = (*encoder)->Encode(*frame, false, &encoded);
    REQUIRE(result == EncodeResult::kOk);  // Every synthetic frame changes something.
    ++encoded_frames;
    CHECK(encoded.keyframe == (i == 0 || i == 8));
    CHECK(encoded.size == frame->size());
    I420Image decoded;
    REQUIRE((*decoder)->Decode(encoded.data, &decoded) == DecodeResult::kOk);
    REQUIRE(decoded.size == frame->size());
    const double psnr = codec_testing::Psnr(*frame, decoded);
    INFO("psnr " << psnr);
    CHECK(psnr >= kMinPsnrDb);

    // The frame number survives compression.
    std::vector<uint8_t> bgra;
    ConvertI420ToRgba(decoded, &bgra);
    for (size_t p = 0; p < bgra.size(); p += 4)
      std::swap(bgra[p], bgra[p + 2]);
    const auto counter =
        SyntheticCapturer::ReadFrameCounter(bgra.data(), decoded.size.width * 4, decoded.size);
    REQUIRE(counter.has_value());
    CHECK(*counter == frame->sequence());
  }
  CHECK(encoded_frames == 12);
}

}  // namespace
}  // namespace lifeline
