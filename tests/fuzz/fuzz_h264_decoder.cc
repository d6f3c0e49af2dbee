// Fuzz target: the H.264 decoder (H264VideoDecoder, libavcodec) on hostile data.
//
// Input: framed as decoder_fuzz_common.h describes (no codec byte). Seeds are real
// libx264 streams: keyframe and deltas, a keyframe alone, an odd size with a forced IDR.
#include <cstdint>
#include <span>
#include <vector>

#include "tests/fuzz/decoder_fuzz_common.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lifeline::fuzz::DecodeFramedInput(lifeline::VideoCodec::kH264,
                                    std::span<const uint8_t>(data, size));
  return 0;
}

namespace lifeline::fuzz {

std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  for (auto seed : {EncodeSeed(VideoCodec::kH264, Size{64, 48}, 4, -1, 0),
                    EncodeSeed(VideoCodec::kH264, Size{64, 48}, 1, -1, 0),
                    EncodeSeed(VideoCodec::kH264, Size{33, 17}, 3, 1, 0)}) {
    if (seed.size() > 1)
      seeds.push_back(std::vector<uint8_t>(seed.begin() + 1, seed.end()));
  }
  return seeds;
}

}  // namespace lifeline::fuzz
