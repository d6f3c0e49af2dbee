// Small helpers shared by the benchmark programs (lifeline-codec-bench,
// lifeline-video-bench): percentiles, CPU clocks, PSNR.
#pragma once

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "capture/frame.h"

namespace lifeline::bench {

// A well-mixed 32-bit hash, for reproducible synthetic content.
inline uint32_t Hash(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

struct Summary {
  double median = 0;
  double p95 = 0;
  double mean = 0;
};

inline Summary Summarize(std::vector<double> values) {
  Summary s;
  if (values.empty())
    return s;
  std::sort(values.begin(), values.end());
  s.median = values[values.size() / 2];
  s.p95 = values[std::min(values.size() - 1, values.size() * 95 / 100)];
  for (double v : values)
    s.mean += v;
  s.mean /= static_cast<double>(values.size());
  return s;
}

// CPU time of `clock` (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID) in microseconds.
inline int64_t CpuUs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

// PSNR over R, G, B of `rgba` (R, G, B, A bytes, tightly packed) against `source`.
inline double PsnrRgb(const Frame& source, const std::vector<uint8_t>& rgba) {
  double sum_sq = 0;
  for (int y = 0; y < source.height(); ++y) {
    const uint8_t* s = source.PixelAt(0, y);
    const uint8_t* d = rgba.data() + static_cast<size_t>(y) * source.width() * 4;
    for (int x = 0; x < source.width(); ++x, s += 4, d += 4) {
      const double dr = double(s[2]) - d[0];
      const double dg = double(s[1]) - d[1];
      const double db = double(s[0]) - d[2];
      sum_sq += dr * dr + dg * dg + db * db;
    }
  }
  if (sum_sq == 0)
    return 99;
  const double mse = sum_sq / (3.0 * source.width() * source.height());
  return 10 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace lifeline::bench
