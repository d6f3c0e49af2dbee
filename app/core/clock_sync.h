// ClockSync: estimates the host's clock relative to the viewer's from Ping/Pong pairs,
// so the viewer can measure capture-to-decoded latency even when the two machines'
// monotonic clocks have unrelated origins.
//
// Rule (NTP-style, minimum-RTT filter): for a ping sent at viewer time t0, answered at
// host time th and received back at viewer time t1, rtt = t1 - t0 and the offset
// estimate is th - (t0 + rtt / 2); its error is at most rtt / 2. Of the last kWindow
// samples the one with the smallest rtt wins, because queueing delay only ever adds to
// the rtt and makes the estimate worse.
//
// Threading: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>

namespace lifeline {

class ClockSync {
 public:
  static constexpr size_t kWindow = 16;

  // Adds one sample. Samples with t1 < t0 are ignored.
  void AddSample(int64_t viewer_send_us, int64_t host_time_us, int64_t viewer_receive_us);

  bool has_estimate() const;
  // host_clock - viewer_clock, in microseconds (0 without an estimate).
  int64_t offset_us() const;
  // Round-trip time of the most recent sample (0 without one).
  int64_t last_rtt_us() const;
  // Converts a host timestamp to the viewer's clock.
  int64_t HostToViewerUs(int64_t host_time_us) const { return host_time_us - offset_us(); }

 private:
  struct Sample {
    int64_t rtt_us;
    int64_t offset_us;
  };
  mutable std::mutex mutex_;
  std::deque<Sample> samples_;  // Guarded by mutex_.
};

}  // namespace lifeline
