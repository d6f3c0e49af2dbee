#include "app/core/stats.h"

#include <algorithm>
#include <cstdio>

namespace lifeline {
namespace {

double PercentileMs(std::vector<int64_t> values_us, double fraction) {
  if (values_us.empty())
    return -1;
  std::sort(values_us.begin(), values_us.end());
  size_t index = static_cast<size_t>(fraction * static_cast<double>(values_us.size() - 1) + 0.5);
  return static_cast<double>(values_us[std::min(index, values_us.size() - 1)]) / 1000.0;
}

}  // namespace

std::string ToJsonLine(const StatsSnapshot& s) {
  char buffer[512];
  std::snprintf(buffer, sizeof(buffer),
                "{\"t\":%.3f,\"fps\":%.2f,\"kbps\":%.1f,\"latency_median_ms\":%.2f,"
                "\"latency_p95_ms\":%.2f,\"rtt_ms\":%.2f,\"frames_total\":%llu,"
                "\"keyframe_requests\":%llu,\"width\":%d,\"height\":%d}",
                s.time_s, s.fps, s.kbps, s.latency_median_ms, s.latency_p95_ms, s.rtt_ms,
                static_cast<unsigned long long>(s.frames_total),
                static_cast<unsigned long long>(s.keyframe_requests), s.width, s.height);
  return buffer;
}

StatsAccumulator::StatsAccumulator(const Clock& clock)
    : clock_(clock), start_us_(clock.NowUs()), interval_start_us_(start_us_) {}

void StatsAccumulator::OnFrameDecoded(size_t encoded_bytes,
                                      int64_t latency_us,
                                      int width,
                                      int height) {
  std::lock_guard lock(mutex_);
  ++interval_frames_;
  interval_bytes_ += encoded_bytes;
  if (latency_us >= 0)
    interval_latencies_us_.push_back(latency_us);
  ++current_.frames_total;
  current_.width = width;
  current_.height = height;
}

void StatsAccumulator::OnKeyframeRequested() {
  std::lock_guard lock(mutex_);
  ++current_.keyframe_requests;
}

void StatsAccumulator::SetRttUs(int64_t rtt_us) {
  std::lock_guard lock(mutex_);
  current_.rtt_ms = static_cast<double>(rtt_us) / 1000.0;
}

bool StatsAccumulator::MaybeCloseInterval(int64_t interval_us, StatsSnapshot* out) {
  std::lock_guard lock(mutex_);
  const int64_t now = clock_.NowUs();
  const int64_t elapsed = now - interval_start_us_;
  if (elapsed < interval_us || elapsed <= 0)
    return false;
  StatsSnapshot s = current_;
  const double seconds = static_cast<double>(elapsed) / 1e6;
  s.time_s = static_cast<double>(now - start_us_) / 1e6;
  s.fps = static_cast<double>(interval_frames_) / seconds;
  s.kbps = static_cast<double>(interval_bytes_) * 8.0 / 1000.0 / seconds;
  s.latency_median_ms = PercentileMs(interval_latencies_us_, 0.5);
  s.latency_p95_ms = PercentileMs(interval_latencies_us_, 0.95);
  interval_start_us_ = now;
  interval_frames_ = 0;
  interval_bytes_ = 0;
  interval_latencies_us_.clear();
  last_ = s;
  *out = s;
  return true;
}

StatsSnapshot StatsAccumulator::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

}  // namespace lifeline
