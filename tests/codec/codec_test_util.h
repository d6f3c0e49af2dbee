// Helpers for the codec tests: deterministic screen-like pictures and comparisons.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/geometry.h"
#include "capture/frame.h"
#include "codec/video_decoder.h"
#include "tests/support/image_compare.h"

namespace lifeline::codec_testing {

inline uint32_t Hash(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

inline void SetBgra(Frame* frame, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
  uint8_t* p = frame->PixelAt(x, y);
  p[0] = b;
  p[1] = g;
  p[2] = r;
  p[3] = 255;
}

inline void FillRect(Frame* frame, const Rect& rect, uint8_t r, uint8_t g, uint8_t b) {
  const Rect clipped = rect.Intersect(Rect::FromSize(frame->size()));
  for (int y = clipped.y; y < clipped.bottom(); ++y) {
    for (int x = clipped.x; x < clipped.right(); ++x)
      SetBgra(frame, x, y, r, g, b);
  }
}

// A desktop-like picture: a diagonal gradient with lines of dark "text" (7x11 glyph
// cells with pseudo-random strokes, different per `text_seed`), and a window at `box`
// (blue title bar, grey checker body). The whole area is marked updated; capture time is `index` *
// 33 ms.
inline std::unique_ptr<Frame> MakeScreenFrame(Size size,
                                              Rect box,
                                              uint32_t text_seed = 1,
                                              int index = 0) {
  auto frame = std::make_unique<Frame>(size);
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const int g = (x + y) * 255 / std::max(1, size.width + size.height);
      SetBgra(frame.get(), x, y, static_cast<uint8_t>(200 + g / 5), static_cast<uint8_t>(210),
              static_cast<uint8_t>(230 - g / 6));
    }
  }
  // Text lines every 16 rows, glyphs 7 wide with a 1-pixel gap, 11 tall.
  for (int line_y = 8; line_y + 11 < size.height; line_y += 16) {
    for (int cell_x = 8; cell_x + 7 < size.width * 3 / 4; cell_x += 8) {
      const uint32_t glyph = Hash(text_seed * 7919u + static_cast<uint32_t>(line_y) * 131u +
                                  static_cast<uint32_t>(cell_x));
      if (glyph % 9 == 0)
        continue;  // A space.
      for (int gy = 0; gy < 11; ++gy) {
        for (int gx = 0; gx < 6; ++gx) {
          // Vertical and horizontal strokes, as letters have.
          const bool vertical = (glyph >> gx) & 1 && gx % 2 == 0;
          const bool horizontal = (glyph >> (8 + gy % 4)) & 1 && (gy == 1 || gy == 5 || gy == 9);
          if (vertical || horizontal)
            SetBgra(frame.get(), cell_x + gx, line_y + gy, 20, 20, 30);
        }
      }
    }
  }
  // The "window": a saturated title bar and a body with a fine checker pattern.
  const Rect clipped = box.Intersect(Rect::FromSize(size));
  for (int y = clipped.y; y < clipped.bottom(); ++y) {
    for (int x = clipped.x; x < clipped.right(); ++x) {
      if (y - box.y < 12) {
        SetBgra(frame.get(), x, y, 30, 80, 200);
      } else {
        // Grey levels: 4:2:0 keeps luma detail at any alignment, chroma detail only at
        // half resolution.
        const bool dark = ((x - box.x) / 4 + (y - box.y) / 4) % 2 == 0;
        const uint8_t level = dark ? 70 : 225;
        SetBgra(frame.get(), x, y, level, level, static_cast<uint8_t>(level - 10));
      }
    }
  }
  frame->mutable_updated_region()->Add(Rect::FromSize(size));
  frame->set_capture_time_us(int64_t{index} * 33'000 + 1'000'000);
  frame->set_sequence(static_cast<uint64_t>(index));
  return frame;
}

inline testing::RgbaImage FrameToRgba(const Frame& frame) {
  testing::RgbaImage image;
  image.width = frame.width();
  image.height = frame.height();
  image.pixels.resize(static_cast<size_t>(frame.width()) * frame.height() * 4);
  size_t i = 0;
  for (int y = 0; y < frame.height(); ++y) {
    for (int x = 0; x < frame.width(); ++x) {
      const uint8_t* p = frame.PixelAt(x, y);
      image.pixels[i++] = p[2];
      image.pixels[i++] = p[1];
      image.pixels[i++] = p[0];
      image.pixels[i++] = p[3];
    }
  }
  return image;
}

inline testing::RgbaImage I420ToRgba(const I420Image& i420) {
  testing::RgbaImage image;
  image.width = i420.size.width;
  image.height = i420.size.height;
  ConvertI420ToRgba(i420, &image.pixels);
  return image;
}

// The part of `image` inside `rect`.
inline testing::RgbaImage Crop(const testing::RgbaImage& image, const Rect& rect) {
  testing::RgbaImage out;
  const Rect r = rect.Intersect(Rect{0, 0, image.width, image.height});
  out.width = r.width;
  out.height = r.height;
  for (int y = r.y; y < r.bottom(); ++y) {
    const auto* row = image.pixels.data() + (static_cast<size_t>(y) * image.width + r.x) * 4;
    out.pixels.insert(out.pixels.end(), row, row + static_cast<size_t>(r.width) * 4);
  }
  return out;
}

inline double Psnr(const Frame& source, const I420Image& decoded) {
  return testing::PsnrRgb(FrameToRgba(source), I420ToRgba(decoded));
}

}  // namespace lifeline::codec_testing
