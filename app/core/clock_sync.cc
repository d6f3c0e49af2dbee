#include "app/core/clock_sync.h"

#include <algorithm>

namespace lifeline {

void ClockSync::AddSample(int64_t viewer_send_us, int64_t host_time_us, int64_t viewer_receive_us) {
  if (viewer_receive_us < viewer_send_us)
    return;
  const int64_t rtt = viewer_receive_us - viewer_send_us;
  const int64_t offset = host_time_us - (viewer_send_us + rtt / 2);
  std::lock_guard lock(mutex_);
  samples_.push_back({rtt, offset});
  while (samples_.size() > kWindow)
    samples_.pop_front();
}

bool ClockSync::has_estimate() const {
  std::lock_guard lock(mutex_);
  return !samples_.empty();
}

int64_t ClockSync::offset_us() const {
  std::lock_guard lock(mutex_);
  if (samples_.empty())
    return 0;
  auto best =
      std::min_element(samples_.begin(), samples_.end(),
                       [](const Sample& a, const Sample& b) { return a.rtt_us < b.rtt_us; });
  return best->offset_us;
}

int64_t ClockSync::last_rtt_us() const {
  std::lock_guard lock(mutex_);
  return samples_.empty() ? 0 : samples_.back().rtt_us;
}

}  // namespace lifeline
