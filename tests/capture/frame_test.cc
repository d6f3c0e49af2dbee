#include "capture/frame.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>

#include "base/latest_slot.h"

namespace lifeline {
namespace {

TEST_CASE("Frame allocates a zeroed, tightly packed BGRA buffer", "[frame]") {
  Frame frame(Size{7, 3});
  CHECK(frame.size() == Size{7, 3});
  CHECK(frame.stride() == 7 * Frame::kBytesPerPixel);
  CHECK(frame.PixelAt(2, 1) == frame.data() + 1 * frame.stride() + 2 * 4);
  for (int i = 0; i < frame.stride() * frame.height(); ++i)
    REQUIRE(frame.data()[i] == 0);
  CHECK(frame.updated_region().empty());
  CHECK(frame.sequence() == 0);
}

TEST_CASE("Frame::Clone copies pixels and metadata into a separate buffer", "[frame]") {
  Frame frame(Size{4, 2});
  frame.PixelAt(3, 1)[2] = 200;
  frame.mutable_updated_region()->Add(Rect{1, 0, 2, 2});
  frame.set_capture_time_us(123);
  frame.set_capture_duration_us(45);
  frame.set_sequence(9);

  std::unique_ptr<Frame> copy = frame.Clone();
  REQUIRE(copy->size() == frame.size());
  CHECK(copy->data() != frame.data());
  CHECK(copy->PixelAt(3, 1)[2] == 200);
  CHECK(copy->updated_region().rects() == frame.updated_region().rects());
  CHECK(copy->capture_time_us() == 123);
  CHECK(copy->capture_duration_us() == 45);
  CHECK(copy->sequence() == 9);

  copy->PixelAt(0, 0)[0] = 1;
  CHECK(frame.PixelAt(0, 0)[0] == 0);
}

TEST_CASE("MergeFrameDamage adds the older frame's damage to the newer one", "[frame]") {
  auto older = std::make_unique<Frame>(Size{100, 100});
  auto newer = std::make_unique<Frame>(Size{100, 100});
  older->mutable_updated_region()->Add(Rect{0, 0, 10, 10});
  newer->mutable_updated_region()->Add(Rect{50, 50, 10, 10});

  MergeFrameDamage(older, newer);

  const auto& rects = newer->updated_region().rects();
  REQUIRE(rects.size() == 2);
  CHECK(newer->updated_region().BoundingBox() == Rect{0, 0, 60, 60});
  CHECK(std::find(rects.begin(), rects.end(), Rect{0, 0, 10, 10}) != rects.end());
  CHECK(std::find(rects.begin(), rects.end(), Rect{50, 50, 10, 10}) != rects.end());
}

TEST_CASE("MergeFrameDamage makes the whole newer frame new after a size change", "[frame]") {
  auto older = std::make_unique<Frame>(Size{100, 100});
  auto newer = std::make_unique<Frame>(Size{80, 60});
  older->mutable_updated_region()->Add(Rect{0, 0, 10, 10});
  newer->mutable_updated_region()->Add(Rect{5, 5, 1, 1});

  MergeFrameDamage(older, newer);

  REQUIRE(newer->updated_region().rects().size() == 1);
  CHECK(newer->updated_region().rects()[0] == Rect{0, 0, 80, 60});
}

TEST_CASE("MergeFrameDamage ignores empty pointers", "[frame]") {
  std::unique_ptr<Frame> none;
  auto frame = std::make_unique<Frame>(Size{10, 10});
  frame->mutable_updated_region()->Add(Rect{1, 1, 2, 2});
  MergeFrameDamage(none, frame);
  MergeFrameDamage(frame, none);
  CHECK(frame->updated_region().rects().size() == 1);
  CHECK_FALSE(none);
}

TEST_CASE("A LatestSlot with MergeFrameDamage loses no damage when it drops a frame", "[frame]") {
  LatestSlot<std::unique_ptr<Frame>> slot(MergeFrameDamage);
  auto first = std::make_unique<Frame>(Size{64, 64});
  first->mutable_updated_region()->Add(Rect{0, 0, 8, 8});
  auto second = std::make_unique<Frame>(Size{64, 64});
  second->mutable_updated_region()->Add(Rect{32, 32, 8, 8});
  second->set_sequence(2);
  REQUIRE(slot.Put(std::move(first)));
  REQUIRE(slot.Put(std::move(second)));

  auto taken = slot.Take();
  REQUIRE(taken.has_value());
  CHECK((*taken)->sequence() == 2);
  CHECK((*taken)->updated_region().BoundingBox() == Rect{0, 0, 40, 40});
  CHECK(slot.replaced_count() == 1);
}

}  // namespace
}  // namespace lifeline
