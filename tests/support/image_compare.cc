#include "tests/support/image_compare.h"

#include <png.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace lifeline::testing {

bool ReadPng(const std::string& path, RgbaImage* out) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    return false;
  image.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return false;
  }
  out->width = static_cast<int>(image.width);
  out->height = static_cast<int>(image.height);
  out->pixels = std::move(pixels);
  return true;
}

bool WritePng(const std::string& path, const RgbaImage& img) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(img.width);
  image.height = static_cast<png_uint_32>(img.height);
  image.format = PNG_FORMAT_RGBA;
  return png_image_write_to_file(&image, path.c_str(), 0, img.pixels.data(), 0, nullptr) != 0;
}

double PsnrRgb(const RgbaImage& a, const RgbaImage& b) {
  if (a.width != b.width || a.height != b.height || a.pixels.size() != b.pixels.size() ||
      a.pixels.empty()) {
    return -1;
  }
  double sum_sq = 0;
  size_t count = 0;
  for (size_t i = 0; i < a.pixels.size(); i += 4) {
    for (size_t c = 0; c < 3; ++c) {
      double d = double(a.pixels[i + c]) - double(b.pixels[i + c]);
      sum_sq += d * d;
      ++count;
    }
  }
  if (sum_sq == 0)
    return 99.0;
  double mse = sum_sq / double(count);
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace lifeline::testing
