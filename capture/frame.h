// Frame: one captured screen image, BGRA8 (byte order B, G, R, A in memory; X11's
// 32-bit little-endian layout), with the region that changed since the previous frame.
//
// Frames are move-only values handed between threads as std::unique_ptr<Frame>; a frame
// is never touched by two threads at once. The updated region is relative to the
// previous frame *delivered by the same capturer*; the first frame of a capturer (and of
// a new size) carries its whole area.
#pragma once

#include <cstdint>
#include <memory>

#include "base/geometry.h"

namespace lifeline {

class Frame {
 public:
  static constexpr int kBytesPerPixel = 4;

  // Allocates a zero-filled BGRA buffer of `size` with a tightly packed stride.
  explicit Frame(Size size);
  // Leaves the pixels uninitialised, for a buffer that is overwritten at once.
  static std::unique_ptr<Frame> CreateUninitialized(Size size);
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  Frame(Frame&&) = default;
  Frame& operator=(Frame&&) = default;

  Size size() const { return size_; }
  int width() const { return size_.width; }
  int height() const { return size_.height; }
  int stride() const { return stride_; }  // Bytes per row.
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  uint8_t* PixelAt(int x, int y) { return data_.get() + y * stride_ + x * kBytesPerPixel; }
  const uint8_t* PixelAt(int x, int y) const {
    return data_.get() + y * stride_ + x * kBytesPerPixel;
  }

  const Region& updated_region() const { return updated_region_; }
  Region* mutable_updated_region() { return &updated_region_; }

  // MonotonicNowUs() when the pixels were read.
  int64_t capture_time_us() const { return capture_time_us_; }
  void set_capture_time_us(int64_t t) { capture_time_us_ = t; }
  // How long reading the pixels took.
  int64_t capture_duration_us() const { return capture_duration_us_; }
  void set_capture_duration_us(int64_t d) { capture_duration_us_ = d; }
  // Increases by one for every frame a capturer delivers.
  uint64_t sequence() const { return sequence_; }
  void set_sequence(uint64_t s) { sequence_ = s; }

  // Copies pixels and metadata into a new frame (tests and the benchmark).
  std::unique_ptr<Frame> Clone() const;

 private:
  struct UninitializedTag {};
  Frame(Size size, UninitializedTag);

  Size size_;
  int stride_ = 0;
  std::unique_ptr<uint8_t[]> data_;
  Region updated_region_;
  int64_t capture_time_us_ = 0;
  int64_t capture_duration_us_ = 0;
  uint64_t sequence_ = 0;
};

// Merge rule for LatestSlot<std::unique_ptr<Frame>>: when `older` is replaced before it
// was encoded, its damage is added to `newer`, so nothing that changed is ever lost.
void MergeFrameDamage(std::unique_ptr<Frame>& older, std::unique_ptr<Frame>& newer);

}  // namespace lifeline
