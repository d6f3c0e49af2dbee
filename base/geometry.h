// Integer geometry: Size, Rect and Region (a set of rectangles).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lifeline {

struct Size {
  int width = 0;
  int height = 0;
  bool empty() const { return width <= 0 || height <= 0; }
  bool operator==(const Size&) const = default;
};

// Half-open rectangle [x, x + width) x [y, y + height).
struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;

  static Rect FromSize(Size size) { return Rect{0, 0, size.width, size.height}; }
  bool empty() const { return width <= 0 || height <= 0; }
  int right() const { return x + width; }
  int bottom() const { return y + height; }
  int64_t area() const { return empty() ? 0 : int64_t{width} * height; }
  Rect Intersect(const Rect& other) const;
  Rect BoundingUnion(const Rect& other) const;
  bool Contains(const Rect& other) const;
  bool operator==(const Rect&) const = default;
  std::string ToString() const;
};

// A set of rectangles describing changed pixels ("damage"). The rectangles may overlap;
// consumers treat the union of them. Kept small: when more than kMaxRects rectangles are
// added, the region collapses to their bounding box (over-reporting damage is always
// safe, under-reporting never happens).
class Region {
 public:
  static constexpr size_t kMaxRects = 32;

  Region() = default;
  explicit Region(const Rect& rect) { Add(rect); }

  void Add(const Rect& rect);
  void Add(const Region& other);
  void Clear() { rects_.clear(); }
  // Drops everything outside `bounds`.
  void ClipTo(const Rect& bounds);

  bool empty() const { return rects_.empty(); }
  const std::vector<Rect>& rects() const { return rects_; }
  Rect BoundingBox() const;
  // Pixels covered, counting overlaps once only when rectangles do not overlap; an upper
  // bound otherwise.
  int64_t AreaUpperBound() const;

 private:
  std::vector<Rect> rects_;
};

}  // namespace lifeline
