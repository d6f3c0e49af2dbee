#include "capture/frame.h"

#include <cstring>

namespace lifeline {

Frame::Frame(Size size)
    : size_(size),
      stride_(size.width * kBytesPerPixel),
      data_(new uint8_t[static_cast<size_t>(stride_) * static_cast<size_t>(size.height)]()) {}

Frame::Frame(Size size, UninitializedTag)
    : size_(size),
      stride_(size.width * kBytesPerPixel),
      data_(new uint8_t[static_cast<size_t>(stride_) * static_cast<size_t>(size.height)]) {}

// static
std::unique_ptr<Frame> Frame::CreateUninitialized(Size size) {
  return std::unique_ptr<Frame>(new Frame(size, UninitializedTag{}));
}

std::unique_ptr<Frame> Frame::Clone() const {
  auto copy = CreateUninitialized(size_);
  std::memcpy(copy->data(), data(), static_cast<size_t>(stride_) * size_.height);
  copy->updated_region_ = updated_region_;
  copy->capture_time_us_ = capture_time_us_;
  copy->capture_duration_us_ = capture_duration_us_;
  copy->sequence_ = sequence_;
  return copy;
}

void MergeFrameDamage(std::unique_ptr<Frame>& older, std::unique_ptr<Frame>& newer) {
  if (!older || !newer)
    return;
  if (older->size() != newer->size()) {
    // A size change makes the whole new frame new.
    newer->mutable_updated_region()->Clear();
    newer->mutable_updated_region()->Add(Rect::FromSize(newer->size()));
    return;
  }
  newer->mutable_updated_region()->Add(older->updated_region());
}

}  // namespace lifeline
