// Image helpers for tests: PSNR, PNG read/write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lifeline::testing {

struct RgbaImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // R, G, B, A per pixel, rows tightly packed.
};

// Reads a PNG as RGBA8. Returns false (and leaves `out` empty) on any error.
bool ReadPng(const std::string& path, RgbaImage* out);
bool WritePng(const std::string& path, const RgbaImage& image);

// PSNR in dB over the R, G and B channels (alpha ignored); images must have the same
// size (otherwise returns -1). Identical images give 99.
double PsnrRgb(const RgbaImage& a, const RgbaImage& b);

}  // namespace lifeline::testing
