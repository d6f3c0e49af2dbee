// A deterministic test picture for end-to-end tests: gradients, coloured blocks, and
// black-on-white "text-like" detail.
#pragma once

#include "tests/support/image_compare.h"

namespace lifeline::testing {

RgbaImage MakeTestPattern(int width, int height);

}  // namespace lifeline::testing
