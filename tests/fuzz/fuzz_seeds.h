// Optional seeds for a fuzz target. A target may define lifeline::fuzz::Seeds() to give
// the replay driver valid inputs to mutate (libFuzzer ignores it and uses its corpus).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace lifeline::fuzz {
std::vector<std::vector<uint8_t>> Seeds();
}  // namespace lifeline::fuzz
