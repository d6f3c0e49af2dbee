// RateController: the host's bitrate and frame-rate control, driven by frame acks.
//
// THE RULE
//   Inputs, per video frame: when it was queued for sending, its size, and when the
//   viewer's ack for it arrived. From these, on every ack (not on a timer):
//   - delay = ack time - send time; base = the smallest delay of the last 10 s (the link's
//     round trip plus decoding, with no queue). queue = delay - base.
//   - delivery rate = bytes over sending time of the frames of the last 500 ms that were
//     queued at least a base delay before the previous ack (they waited at the link, so
//     the time between the two acks is their sending time); unknown when none did (an
//     idle link says nothing about its capacity).
//   Decisions (evaluated at most every kDecisionIntervalUs = 100 ms, so a single late ack
//   is not a trend):
//   1. Congested when the median queue of the acks since the last decision exceeds
//      max(kQueueThresholdUs = 40 ms, base / 2), or when a known delivery rate is below
//      the bitrate / 1.2 (a queue that stood from the start hides from the base delay,
//      not from the rate), or when frames spent more than half of the interval waiting
//      for a free slot in the window (the link or the viewer's decoder cannot keep up).
//      Then bitrate = min(bitrate * 0.7,
//      delivery rate * 0.85): the encoder now produces less than the link carries, so
//      the queue drains instead of standing. If the bitrate is already at its floor, the
//      frame rate halves (down to kMinFps) instead: fewer, still readable frames.
//   2. Otherwise, after kHoldAfterDecreaseUs = 500 ms without congestion, the frame rate
//      returns first (doubling per decision up to max_fps), then the bitrate grows by 10%
//      per decision (up to 30%/s at 3 decisions per second), but never above 1.5 x the
//      measured delivery rate while the window was full, nor above max_bitrate_kbps.
//   Why this beats RustDesk's rule (retune every 3 s, 150 ms threshold): a link that
//   drops from 10 to 1 Mbit/s builds a queue that is seen within about 100 ms of the
//   first delayed ack and cut in one step to below the measured rate, so latency returns
//   to base within about half a second instead of after seconds of 150+ ms frames. And the
//   window of frames in flight (2 by default) bounds the queue meanwhile: at most two
//   frames ever wait, whatever the link does.
//
// Threading: not thread-safe; the host calls it under its session mutex (acks arrive on
// the network thread, the encoder reads the targets on the encode thread). Times are
// passed in (microseconds on one monotonic clock), so tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <deque>

namespace lifeline {

struct RateControllerConfig {
  int start_bitrate_kbps = 4000;
  int min_bitrate_kbps = 150;
  int max_bitrate_kbps = 4000;
  int max_fps = 30;
};

class RateController {
 public:
  static constexpr int64_t kDecisionIntervalUs = 100'000;
  static constexpr int64_t kQueueThresholdUs = 40'000;
  static constexpr int64_t kHoldAfterDecreaseUs = 500'000;
  static constexpr int64_t kBaseWindowUs = 10'000'000;
  static constexpr int64_t kRateWindowUs = 500'000;
  static constexpr int kMinFps = 5;

  explicit RateController(const RateControllerConfig& config);

  // A frame of `bytes` was queued for the viewer at `now_us`, after waiting
  // `waited_for_window_us` for a free slot in the window of frames in flight.
  void OnFrameSent(uint64_t frame_id, int64_t bytes, int64_t now_us, int64_t waited_for_window_us);
  // The viewer acknowledged `frame_id` at `now_us`. Unknown ids are ignored.
  void OnFrameAcked(uint64_t frame_id, int64_t now_us);

  int target_bitrate_kbps() const { return bitrate_kbps_; }
  int target_fps() const { return fps_; }
  // For stats and tests.
  int64_t base_delay_us() const;
  int64_t last_queue_us() const { return last_queue_us_; }
  // 0 when unknown: no frame waited behind another in the last kRateWindowUs.
  int64_t delivery_rate_kbps() const { return delivery_rate_kbps_; }

 private:
  struct Sent {
    uint64_t frame_id;
    int64_t bytes;
    int64_t sent_us;
    int in_flight_before;  // Frames unacked when this one was queued.
  };
  struct Delay {
    int64_t at_us;
    int64_t delay_us;
  };
  struct Delivered {
    int64_t at_us;
    int64_t bytes;
    int64_t interval_us;  // Since the previous ack: the link was busy all that time.
  };

  void Decide(int64_t now_us);

  const RateControllerConfig config_;
  int bitrate_kbps_;
  int fps_;
  std::deque<Sent> sent_;
  std::deque<Delay> delays_;          // Last kBaseWindowUs, for the base delay.
  std::deque<int64_t> recent_queue_;  // Queue samples since the last decision.
  std::deque<Delivered> delivered_;   // Acks of link-limited frames, last kRateWindowUs.
  int64_t delivery_rate_kbps_ = 0;
  int64_t last_queue_us_ = 0;
  int64_t last_decision_us_ = 0;
  int64_t last_ack_us_ = -1;
  int64_t window_wait_us_ = 0;  // Since the last decision.
  int64_t last_decrease_us_ = -kHoldAfterDecreaseUs;
};

}  // namespace lifeline
