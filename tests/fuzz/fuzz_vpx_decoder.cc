// Fuzz target: the VP8 / VP9 decoders (VpxVideoDecoder) on hostile data.
//
// Input: byte 0 picks the codec (bit 0: 0 = VP8, 1 = VP9); the rest is framed as
// decoder_fuzz_common.h describes.
#include <cstdint>
#include <span>
#include <vector>

#include "tests/fuzz/decoder_fuzz_common.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const lifeline::VideoCodec codec =
      (data[0] & 1) ? lifeline::VideoCodec::kVp9 : lifeline::VideoCodec::kVp8;
  lifeline::fuzz::DecodeFramedInput(codec, std::span<const uint8_t>(data + 1, size - 1));
  return 0;
}

namespace lifeline::fuzz {

std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  for (VideoCodec codec : {VideoCodec::kVp8, VideoCodec::kVp9}) {
    const uint8_t first = codec == VideoCodec::kVp9 ? 1 : 0;
    // Keyframe and three deltas; a keyframe alone; an odd size with a forced keyframe.
    for (auto seed : {EncodeSeed(codec, Size{64, 48}, 4, -1, first),
                      EncodeSeed(codec, Size{64, 48}, 1, -1, first),
                      EncodeSeed(codec, Size{33, 17}, 3, 1, first)}) {
      if (seed.size() > 1)
        seeds.push_back(std::move(seed));
    }
  }
  return seeds;
}

}  // namespace lifeline::fuzz
