// A resolution change through xrandr on Xvfb, mid-capture: the capturer wakes on the
// RandR event, delivers a whole frame at the new size, and the encoder restarts with a
// keyframe the decoder follows at that size (no stretched picture, no crash).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "capture/x11/screen_capturer_x11.h"
#include "codec/video_decoder.h"
#include "codec/video_encoder.h"
#include "tests/support/subprocess.h"
#include "tests/support/x11_painter.h"
#include "tests/support/xvfb.h"

namespace lifeline {
namespace {

using testing::RunCommand;
using testing::Xvfb;

void Xrandr(const std::string& display, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"xrandr"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto result = RunCommand(argv, 10'000, {{"DISPLAY", display}});
  INFO("xrandr " << result.output);
  REQUIRE(result.exit_status == 0);
}

std::unique_ptr<Frame> NextFrame(ScreenCapturer& capturer) {
  REQUIRE(capturer.WaitForChange(5000));
  std::unique_ptr<Frame> frame;
  // A read racing the resize may fail once (kTemporaryError); the next one succeeds.
  for (int i = 0; i < 5; ++i) {
    if (capturer.CaptureFrame(&frame) == CaptureResult::kSuccess)
      return frame;
  }
  FAIL("no frame after the resize");
  return nullptr;
}

TEST_CASE("A resolution change through xrandr gives a keyframe at the new size", "[display]") {
  Xvfb xvfb(1280, 720);
  X11CaptureOptions options;
  options.display = xvfb.display();
  auto capturer = CreateX11ScreenCapturer(options);
  REQUIRE(capturer.ok());
  EncoderConfig config;
  config.codec = VideoCodec::kVp8;
  auto encoder = CreateVideoEncoder(config);
  REQUIRE(encoder.ok());
  auto decoder = CreateVideoDecoder(VideoCodec::kVp8);
  REQUIRE(decoder.ok());

  auto encode_and_decode = [&](const Frame& frame, bool expect_keyframe) {
    EncodedFrame encoded;
    REQUIRE((*encoder)->Encode(frame, false, &encoded) == EncodeResult::kOk);
    CHECK(encoded.keyframe == expect_keyframe);
    CHECK(encoded.size == frame.size());
    I420Image image;
    REQUIRE((*decoder)->Decode(encoded.data, &image) == DecodeResult::kOk);
    CHECK(FitDecodedToAnnouncedSize(frame.size(), &image) == DecodeResult::kOk);
    CHECK(image.size == frame.size());
  };

  auto first = NextFrame(**capturer);
  CHECK(first->size() == (Size{1280, 720}));
  encode_and_decode(*first, true);

  Xrandr(xvfb.display(), {"--newmode", "800x600", "0", "800", "0", "0", "0", "600", "0", "0", "0"});
  Xrandr(xvfb.display(), {"--addmode", "screen", "800x600"});
  Xrandr(xvfb.display(), {"--output", "screen", "--mode", "800x600", "--fb", "800x600"});
  auto smaller = NextFrame(**capturer);
  CHECK(smaller->size() == (Size{800, 600}));
  CHECK(smaller->updated_region().BoundingBox() == Rect::FromSize(Size{800, 600}));
  CHECK((*capturer)->screen_size() == (Size{800, 600}));
  encode_and_decode(*smaller, true);

  Xrandr(xvfb.display(), {"--output", "screen", "--mode", "1280x720", "--fb", "1280x720"});
  auto larger = NextFrame(**capturer);
  CHECK(larger->size() == (Size{1280, 720}));
  CHECK(larger->updated_region().BoundingBox() == Rect::FromSize(Size{1280, 720}));
  encode_and_decode(*larger, true);

  // Drawing after the change is captured as usual.
  testing::X11Painter painter(xvfb.display());
  painter.Fill(Rect{100, 100, 64, 64}, 0xff8800);
  std::unique_ptr<Frame> after;
  for (int i = 0; i < 10; ++i) {
    after = NextFrame(**capturer);
    const uint8_t* p = after->PixelAt(120, 120);
    if (p[0] == 0x00 && p[1] == 0x88 && p[2] == 0xff)
      break;
  }
  const uint8_t* p = after->PixelAt(120, 120);
  CHECK((p[0] == 0x00 && p[1] == 0x88 && p[2] == 0xff));
}

}  // namespace
}  // namespace lifeline
