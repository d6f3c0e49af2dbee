#include "capture/synthetic_capturer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <string>

#include "base/time.h"

namespace lifeline {
namespace {

// 5x7 digit glyphs: one byte per row, bit 4 is the leftmost cell.
constexpr std::array<std::array<uint8_t, 7>, 10> kDigitGlyphs = {{
    {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110},  // 0
    {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},  // 1
    {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111},  // 2
    {0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110},  // 3
    {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010},  // 4
    {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110},  // 5
    {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110},  // 6
    {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000},  // 7
    {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110},  // 8
    {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100},  // 9
}};
constexpr int kGlyphColumns = 5;
constexpr int kGlyphRows = 7;
// A digit and the blank column after it, in cells.
constexpr int kDigitAdvanceCells = kGlyphColumns + 1;
// The plate has one blank cell around the digits.
constexpr int kPlateHeightCells = kGlyphRows + 2;
constexpr int kPlateMarginPx = 16;
// uint64_t has at most 20 decimal digits.
constexpr int kMaxDigits = 20;

constexpr int kGridSpacingPx = 32;
constexpr int kStripeBandHeightPx = 24;
constexpr int kBoxMaxSidePx = 96;
constexpr int kBoxStepXPx = 7;
constexpr int kBoxStepYPx = 5;
constexpr int kBoxBorderPx = 3;
constexpr int kBoxColorPeriodFrames = 8;

struct Bgr {
  uint8_t b, g, r;
};
constexpr Bgr kBlack{0, 0, 0};
constexpr Bgr kWhite{255, 255, 255};
constexpr std::array<Bgr, 6> kBoxColors = {{
    {0, 0, 255},    // Red.
    {0, 255, 0},    // Green.
    {255, 0, 0},    // Blue.
    {0, 255, 255},  // Yellow.
    {255, 0, 255},  // Magenta.
    {255, 255, 0},  // Cyan.
}};

void PutPixel(Frame* frame, int x, int y, Bgr color) {
  uint8_t* p = frame->PixelAt(x, y);
  p[0] = color.b;
  p[1] = color.g;
  p[2] = color.r;
  p[3] = 255;
}

void FillRect(Frame* frame, const Rect& rect, Bgr color) {
  const Rect r = rect.Intersect(Rect::FromSize(frame->size()));
  for (int y = r.y; y < r.bottom(); ++y) {
    for (int x = r.x; x < r.right(); ++x)
      PutPixel(frame, x, y, color);
  }
}

Bgr BackgroundPixel(int x, int y, Size size) {
  const int band_top = size.height / 2;
  // Three bands of the finest possible detail across the whole width.
  if (y >= band_top && y < band_top + kStripeBandHeightPx) {
    return (x & 1) ? kWhite : kBlack;  // 1-pixel vertical stripes.
  }
  if (y >= band_top + kStripeBandHeightPx && y < band_top + 2 * kStripeBandHeightPx) {
    return ((x / 2 + y / 2) & 1) ? kWhite : kBlack;  // 2x2 checkerboard.
  }
  if (y >= band_top + 2 * kStripeBandHeightPx && y < band_top + 3 * kStripeBandHeightPx) {
    return (y & 1) ? kWhite : kBlack;  // 1-pixel horizontal stripes.
  }
  if (x % kGridSpacingPx == 0 || y % kGridSpacingPx == 0)
    return kWhite;
  const int max_x = std::max(size.width - 1, 1);
  const int max_y = std::max(size.height - 1, 1);
  const auto b = static_cast<uint8_t>(x * 255 / max_x);
  const auto g = static_cast<uint8_t>(y * 255 / max_y);
  const auto r = static_cast<uint8_t>(255 - (b + g) / 2);
  return Bgr{b, g, r};
}

void PaintBackground(Frame* frame) {
  for (int y = 0; y < frame->height(); ++y) {
    for (int x = 0; x < frame->width(); ++x) {
      PutPixel(frame, x, y, BackgroundPixel(x, y, frame->size()));
    }
  }
}

int DigitCount(uint64_t value) {
  int count = 1;
  while (value >= 10) {
    value /= 10;
    ++count;
  }
  return count;
}

// Position on a path that goes 0, 1, ..., range, range - 1, ..., 0, 1, ...
int Bounce(uint64_t t, int range) {
  if (range <= 0)
    return 0;
  const uint64_t period = 2 * static_cast<uint64_t>(range);
  const auto m = static_cast<int>(t % period);
  return m <= range ? m : static_cast<int>(period) - m;
}

// The plate before clipping to the frame.
Rect UnclippedCounterRect(uint64_t index) {
  const int digits = DigitCount(index);
  const int width_cells = 1 + digits * kDigitAdvanceCells;
  return Rect{kPlateMarginPx, kPlateMarginPx, width_cells * SyntheticCapturer::kDigitCellPx,
              kPlateHeightCells * SyntheticCapturer::kDigitCellPx};
}

// Top-left pixel of digit `position` (0: leftmost) on the plate.
void DigitOrigin(int position, int* x, int* y) {
  constexpr int cell = SyntheticCapturer::kDigitCellPx;
  *x = kPlateMarginPx + cell * (1 + position * kDigitAdvanceCells);
  *y = kPlateMarginPx + cell;
}

void PaintOverlay(uint64_t index, Frame* frame) {
  const Size size = frame->size();
  const Rect box = SyntheticCapturer::BoxRect(size, index);
  FillRect(frame, box, kBlack);
  const Rect inner{box.x + kBoxBorderPx, box.y + kBoxBorderPx, box.width - 2 * kBoxBorderPx,
                   box.height - 2 * kBoxBorderPx};
  FillRect(frame, inner, kBoxColors[(index / kBoxColorPeriodFrames) % kBoxColors.size()]);

  const Rect plate = UnclippedCounterRect(index);
  constexpr int cell = SyntheticCapturer::kDigitCellPx;
  FillRect(frame, plate, kWhite);
  FillRect(frame, Rect{plate.right() - cell, plate.y, cell, cell}, kBlack);  // End mark.
  const std::string digits = std::to_string(index);
  for (size_t i = 0; i < digits.size(); ++i) {
    const auto& glyph = kDigitGlyphs[static_cast<size_t>(digits[i] - '0')];
    int origin_x = 0;
    int origin_y = 0;
    DigitOrigin(static_cast<int>(i), &origin_x, &origin_y);
    for (int row = 0; row < kGlyphRows; ++row) {
      for (int column = 0; column < kGlyphColumns; ++column) {
        if (glyph[static_cast<size_t>(row)] & (1 << (kGlyphColumns - 1 - column))) {
          FillRect(frame, Rect{origin_x + column * cell, origin_y + row * cell, cell, cell},
                   kBlack);
        }
      }
    }
  }
}

Size SanitizedSize(Size size) {
  assert(!size.empty());
  if (size.empty())
    return Size{1, 1};
  return size;
}

}  // namespace

SyntheticCapturer::SyntheticCapturer(Size size) : size_(SanitizedSize(size)) {}

void SyntheticCapturer::SetSize(Size size) {
  size = SanitizedSize(size);
  if (size == size_)
    return;
  size_ = size;
  background_.reset();
  whole_area_next_ = true;
}

CaptureResult SyntheticCapturer::CaptureFrame(std::unique_ptr<Frame>* frame) {
  const int64_t start_us = MonotonicNowUs();
  if (!background_) {
    background_ = std::make_unique<Frame>(size_);
    PaintBackground(background_.get());
  }
  auto out = std::make_unique<Frame>(size_);
  std::memcpy(out->data(), background_->data(),
              static_cast<size_t>(out->stride()) * static_cast<size_t>(out->height()));
  const uint64_t index = next_index_++;
  PaintOverlay(index, out.get());

  Region* region = out->mutable_updated_region();
  if (whole_area_next_) {
    region->Add(Rect::FromSize(size_));
    whole_area_next_ = false;
  } else {
    region->Add(BoxRect(size_, index - 1));
    region->Add(BoxRect(size_, index));
    region->Add(CounterRect(size_, index));
  }
  const int64_t end_us = MonotonicNowUs();
  out->set_capture_time_us(end_us);
  out->set_capture_duration_us(end_us - start_us);
  out->set_sequence(index);
  *frame = std::move(out);
  return CaptureResult::kSuccess;
}

// static
void SyntheticCapturer::PaintFrame(uint64_t index, Frame* frame) {
  PaintBackground(frame);
  PaintOverlay(index, frame);
}

// static
Rect SyntheticCapturer::BoxRect(Size size, uint64_t index) {
  const int side = std::clamp(std::min(size.width, size.height) / 6, 1, kBoxMaxSidePx);
  const int x = Bounce(index * kBoxStepXPx, size.width - side);
  const int y = Bounce(index * kBoxStepYPx, size.height - side);
  return Rect{x, y, side, side}.Intersect(Rect::FromSize(size));
}

// static
Rect SyntheticCapturer::CounterRect(Size size, uint64_t index) {
  return UnclippedCounterRect(index).Intersect(Rect::FromSize(size));
}

// static
std::optional<uint64_t> SyntheticCapturer::ReadFrameCounter(const uint8_t* bgra,
                                                            int stride_bytes,
                                                            Size size) {
  if (bgra == nullptr || size.empty())
    return std::nullopt;
  constexpr int cell = kDigitCellPx;
  // True when the cell whose top-left pixel is (x, y) is inside the image and light.
  auto cell_is_white = [&](int x, int y) -> std::optional<bool> {
    const int cx = x + cell / 2;
    const int cy = y + cell / 2;
    if (x < 0 || y < 0 || cx >= size.width || cy >= size.height)
      return std::nullopt;
    const uint8_t* p = bgra + static_cast<ptrdiff_t>(cy) * stride_bytes + cx * 4;
    const int luma = (p[2] * 77 + p[1] * 150 + p[0] * 29) >> 8;
    return luma >= 128;
  };

  // The plate has blank (white) cells left of every digit and in the rows above and below
  // the digits, and a black end mark in its top-right corner cell.
  auto cells_white = [&](int x, int y, int dx, int dy, int count) -> std::optional<bool> {
    for (int i = 0; i < count; ++i) {
      const auto white = cell_is_white(x + i * dx, y + i * dy);
      if (!white)
        return std::nullopt;
      if (!*white)
        return false;
    }
    return true;
  };

  uint64_t value = 0;
  for (int position = 0; position <= kMaxDigits; ++position) {
    int origin_x = 0;
    int origin_y = 0;
    DigitOrigin(position, &origin_x, &origin_y);
    const auto left_blank = cells_white(origin_x - cell, origin_y, 0, cell, kGlyphRows);
    const auto corner_white = cell_is_white(origin_x - cell, origin_y - cell);
    if (!left_blank.value_or(false) || !corner_white)
      return std::nullopt;
    if (!*corner_white) {
      // The end mark: the number is complete (a plate without digits is not a plate).
      if (position == 0)
        return std::nullopt;
      return value;
    }
    if (position == kMaxDigits)
      return std::nullopt;
    const bool framed =
        cells_white(origin_x, origin_y - cell, cell, 0, kGlyphColumns).value_or(false) &&
        cells_white(origin_x, origin_y + kGlyphRows * cell, cell, 0, kGlyphColumns).value_or(false);
    if (!framed)
      return std::nullopt;

    std::array<uint8_t, kGlyphRows> bits{};
    for (int row = 0; row < kGlyphRows; ++row) {
      for (int column = 0; column < kGlyphColumns; ++column) {
        const auto white = cell_is_white(origin_x + column * cell, origin_y + row * cell);
        if (!white)
          return std::nullopt;  // Clipped.
        if (!*white) {
          bits[static_cast<size_t>(row)] |= static_cast<uint8_t>(1 << (kGlyphColumns - 1 - column));
        }
      }
    }
    const auto match = std::find(kDigitGlyphs.begin(), kDigitGlyphs.end(), bits);
    if (match == kDigitGlyphs.end())
      return std::nullopt;  // Damaged beyond reading.
    const auto digit = static_cast<uint64_t>(match - kDigitGlyphs.begin());
    if (value > (UINT64_MAX - digit) / 10)
      return std::nullopt;  // Not something we painted.
    value = value * 10 + digit;
  }
  return std::nullopt;
}

// static
std::optional<uint64_t> SyntheticCapturer::ReadFrameCounter(const Frame& frame) {
  return ReadFrameCounter(frame.data(), frame.stride(), frame.size());
}

}  // namespace lifeline
