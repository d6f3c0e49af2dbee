#include "base/geometry.h"

#include <algorithm>

namespace lifeline {

Rect Rect::Intersect(const Rect& other) const {
  const int left = std::max(x, other.x);
  const int top = std::max(y, other.y);
  const int r = std::min(right(), other.right());
  const int b = std::min(bottom(), other.bottom());
  if (r <= left || b <= top)
    return Rect{};
  return Rect{left, top, r - left, b - top};
}

Rect Rect::BoundingUnion(const Rect& other) const {
  if (empty())
    return other;
  if (other.empty())
    return *this;
  const int left = std::min(x, other.x);
  const int top = std::min(y, other.y);
  return Rect{left, top, std::max(right(), other.right()) - left,
              std::max(bottom(), other.bottom()) - top};
}

bool Rect::Contains(const Rect& other) const {
  if (other.empty())
    return true;
  return other.x >= x && other.y >= y && other.right() <= right() && other.bottom() <= bottom();
}

std::string Rect::ToString() const {
  return std::to_string(width) + "x" + std::to_string(height) + "+" + std::to_string(x) + "+" +
         std::to_string(y);
}

void Region::Add(const Rect& rect) {
  if (rect.empty())
    return;
  for (const Rect& existing : rects_) {
    if (existing.Contains(rect))
      return;
  }
  std::erase_if(rects_, [&](const Rect& existing) { return rect.Contains(existing); });
  rects_.push_back(rect);
  if (rects_.size() > kMaxRects) {
    const Rect box = BoundingBox();
    rects_.assign(1, box);
  }
}

void Region::Add(const Region& other) {
  for (const Rect& rect : other.rects_)
    Add(rect);
}

void Region::ClipTo(const Rect& bounds) {
  std::vector<Rect> clipped;
  for (const Rect& rect : rects_) {
    Rect r = rect.Intersect(bounds);
    if (!r.empty())
      clipped.push_back(r);
  }
  rects_ = std::move(clipped);
}

Rect Region::BoundingBox() const {
  Rect box;
  for (const Rect& rect : rects_)
    box = box.BoundingUnion(rect);
  return box;
}

int64_t Region::AreaUpperBound() const {
  int64_t area = 0;
  for (const Rect& rect : rects_)
    area += rect.area();
  return area;
}

}  // namespace lifeline
