// Viewer statistics: per-second frame rate, bitrate and capture-to-decoded latency.
//
// Threading: all methods are thread-safe (the decode thread records, the UI and the
// stats writer read).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/time.h"

namespace lifeline {

struct StatsSnapshot {
  double time_s = 0;  // Seconds since the session started.
  double fps = 0;     // Frames decoded in the last interval, per second.
  double kbps = 0;    // Encoded video bits received in the last interval, per second / 1000.
  double latency_median_ms = -1;  // Capture (host) to decoded (viewer); -1 when unknown.
  double latency_p95_ms = -1;
  double rtt_ms = -1;
  uint64_t frames_total = 0;
  uint64_t keyframe_requests = 0;
  int width = 0;
  int height = 0;
};

// One JSON object on one line, no trailing newline.
std::string ToJsonLine(const StatsSnapshot& snapshot);

class StatsAccumulator {
 public:
  explicit StatsAccumulator(const Clock& clock = SystemClock::Get());

  // A frame was decoded. `latency_us` < 0 when unknown (no clock estimate yet).
  void OnFrameDecoded(size_t encoded_bytes, int64_t latency_us, int width, int height);
  void OnKeyframeRequested();
  void SetRttUs(int64_t rtt_us);

  // Closes the current interval if at least `interval_us` passed since the last one;
  // returns true and fills `*out` then.
  bool MaybeCloseInterval(int64_t interval_us, StatsSnapshot* out);

  // The last closed interval.
  StatsSnapshot last() const;

 private:
  const Clock& clock_;
  mutable std::mutex mutex_;
  const int64_t start_us_;
  int64_t interval_start_us_;
  uint64_t interval_frames_ = 0;
  uint64_t interval_bytes_ = 0;
  std::vector<int64_t> interval_latencies_us_;
  StatsSnapshot current_;  // Running totals (frames_total, size, rtt).
  StatsSnapshot last_;
};

}  // namespace lifeline
