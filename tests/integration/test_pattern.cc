#include "tests/integration/test_pattern.h"

namespace lifeline::testing {
namespace {

void Put(RgbaImage* image, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
  uint8_t* p = &image->pixels[(static_cast<size_t>(y) * image->width + x) * 4];
  p[0] = r;
  p[1] = g;
  p[2] = b;
  p[3] = 255;
}

// A window: title bar, light body, lines of black "text" strokes 1-3 px wide.
void DrawWindow(RgbaImage* image, int left, int top, int width, int height, int seed) {
  for (int y = top; y < top + height && y < image->height; ++y) {
    for (int x = left; x < left + width && x < image->width; ++x) {
      const int row = y - top;
      if (row < 24) {
        Put(image, x, y, 48, 88, 160);  // Title bar.
        continue;
      }
      const int line = (row - 24) % 18;
      const int column = x - left;
      const bool in_text = line >= 5 && line < 14 && column > 12 && column < width - 12 &&
                           ((row - 24) / 18 + seed) % 7 != 6;  // Some blank lines.
      // Glyph-like strokes: a deterministic mix of vertical and horizontal bars.
      const int glyph = (column / 7 + (row - 24) / 18 * 5 + seed) % 13;
      const int gx = column % 7;
      const bool stroke = in_text && glyph < 10 &&
                          (gx == 1 || (gx == 4 && glyph % 2 == 0) || (line == 9 && gx < 5) ||
                           (line == 5 && glyph % 3 == 0));
      const uint8_t v = stroke ? 24 : 240;
      Put(image, x, y, v, v, v);
    }
  }
}

}  // namespace

RgbaImage MakeTestPattern(int width, int height) {
  RgbaImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 4);
  // Wallpaper: a smooth two-way gradient.
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      Put(&image, x, y, static_cast<uint8_t>(40 + x * 120 / width),
          static_cast<uint8_t>(70 + y * 100 / height),
          static_cast<uint8_t>(150 + (x + y) * 60 / (width + height)));
    }
  }
  // A panel at the bottom, and two overlapping windows full of text.
  for (int y = height - 32; y < height; ++y) {
    for (int x = 0; x < width; ++x)
      Put(&image, x, y, 35, 38, 45);
  }
  DrawWindow(&image, width / 16, height / 12, width / 2, height * 2 / 3, 0);
  DrawWindow(&image, width * 7 / 16, height / 4, width / 2, height / 2 + height / 8, 3);
  return image;
}

}  // namespace lifeline::testing
