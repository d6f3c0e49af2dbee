// SyntheticCapturer: a ScreenCapturer that needs no display. It generates deterministic
// frames: a static background (gradient, 1-pixel grid, fine stripes and a checkerboard:
// detail a codec must work for), a box that moves every frame, and the frame number in
// large block digits on a white plate in the top-left corner (readable after lossy
// compression; see ReadFrameCounter; a black cell in the plate's top-right corner marks
// the end of the number).
//
// Frame N (N = Frame::sequence(), starting at 0) always shows the same pixels for the same
// size, so tests can regenerate any frame with PaintFrame() and compare.
//
// Updated region: the first frame, and the first frame after SetSize(), carry their whole
// area; every other frame carries the previous and the current box and the counter plate
// (which covers the previous plate, because the plate only grows with the number of
// digits). Every pixel that differs from the previous frame lies inside that region.
//
// Threading: like every ScreenCapturer, used on one thread. The static functions are pure
// and may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "base/geometry.h"
#include "capture/frame.h"
#include "capture/screen_capturer.h"

namespace lifeline {

class SyntheticCapturer final : public ScreenCapturer {
 public:
  // Side of one cell of the 5x7 digit font, in pixels. A digit is 5x7 cells.
  static constexpr int kDigitCellPx = 8;
  // Largest size accepted by the factory (CreateScreenCapturer) for synthetic frames.
  static constexpr int kMaxSidePx = 8192;

  // `size` must not be empty (CreateScreenCapturer checks; a bad size here asserts and is
  // treated as 1x1).
  explicit SyntheticCapturer(Size size);
  SyntheticCapturer(const SyntheticCapturer&) = delete;
  SyntheticCapturer& operator=(const SyntheticCapturer&) = delete;

  // ScreenCapturer interface. CaptureFrame always returns kSuccess.
  CaptureResult CaptureFrame(std::unique_ptr<Frame>* frame) override;
  Size screen_size() const override { return size_; }
  std::string_view name() const override { return "synthetic"; }

  // Makes later frames `size` (not empty; as in the constructor). The next frame carries
  // its whole area, like a real screen resize. Frame numbers keep counting.
  void SetSize(Size size);

  // Paints exactly the pixels frame `index` shows at `frame->size()` (alpha 255). Leaves the
  // frame's updated region and metadata alone.
  static void PaintFrame(uint64_t index, Frame* frame);

  // Where the moving box is in frame `index` (inside Rect::FromSize(size)).
  static Rect BoxRect(Size size, uint64_t index);
  // Where the counter plate (white, with black digits) is in frame `index`, clipped to
  // `size`. It contains CounterRect(size, index - 1).
  static Rect CounterRect(Size size, uint64_t index);

  // Reads the frame number painted by PaintFrame from BGRA pixels (`stride_bytes` per row),
  // e.g. a decoded frame converted back to BGRA. Each digit cell is sampled at its centre
  // and thresholded at mid grey, so moderate compression noise is tolerated. nullopt when
  // no counter is found (too small a frame, or the digits were destroyed).
  static std::optional<uint64_t> ReadFrameCounter(const uint8_t* bgra, int stride_bytes, Size size);
  static std::optional<uint64_t> ReadFrameCounter(const Frame& frame);

 private:
  Size size_;
  uint64_t next_index_ = 0;
  bool whole_area_next_ = true;
  // The background of the current size, painted once and copied into every frame.
  std::unique_ptr<Frame> background_;
};

}  // namespace lifeline
