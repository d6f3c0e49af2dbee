#include "app/core/rate_controller.h"

#include <algorithm>
#include <vector>

namespace lifeline {

RateController::RateController(const RateControllerConfig& config)
    : config_(config),
      bitrate_kbps_(
          std::clamp(config.start_bitrate_kbps, config.min_bitrate_kbps, config.max_bitrate_kbps)),
      fps_(config.max_fps) {}

int64_t RateController::base_delay_us() const {
  int64_t base = -1;
  for (const Delay& d : delays_)
    base = base < 0 ? d.delay_us : std::min(base, d.delay_us);
  return base;
}

void RateController::OnFrameSent(uint64_t frame_id,
                                 int64_t bytes,
                                 int64_t now_us,
                                 int64_t waited_for_window_us) {
  window_wait_us_ += std::max<int64_t>(0, waited_for_window_us);
  sent_.push_back(Sent{frame_id, bytes, now_us, static_cast<int>(sent_.size())});
  // Bounded by the window in practice; guard against acks that never come.
  while (sent_.size() > 64)
    sent_.pop_front();
}

void RateController::OnFrameAcked(uint64_t frame_id, int64_t now_us) {
  auto it = std::find_if(sent_.begin(), sent_.end(),
                         [&](const Sent& s) { return s.frame_id == frame_id; });
  if (it == sent_.end())
    return;
  const Sent sent = *it;
  sent_.erase(sent_.begin(), it + 1);

  const int64_t delay_us = std::max<int64_t>(0, now_us - sent.sent_us);
  delays_.push_back(Delay{now_us, delay_us});
  while (!delays_.empty() && delays_.front().at_us < now_us - kBaseWindowUs)
    delays_.pop_front();
  last_queue_us_ = delay_us - base_delay_us();
  recent_queue_.push_back(last_queue_us_);

  // A frame that was queued at least a base delay before the previous ack was waiting at
  // the link when the previous frame finished: the link was busy with it from then on,
  // and the time between the two acks is its sending time.
  if (sent.in_flight_before > 0 && last_ack_us_ >= 0 && now_us > last_ack_us_ &&
      sent.sent_us <= last_ack_us_ - base_delay_us()) {
    delivered_.push_back(Delivered{now_us, sent.bytes, now_us - last_ack_us_});
  }
  last_ack_us_ = now_us;
  while (!delivered_.empty() && delivered_.front().at_us < now_us - kRateWindowUs)
    delivered_.pop_front();
  delivery_rate_kbps_ = 0;  // Unknown unless the link was recently the limit.
  if (delivered_.size() >= 2) {
    int64_t bytes = 0;
    int64_t span_us = 0;
    for (const Delivered& d : delivered_) {
      bytes += d.bytes;
      span_us += d.interval_us;
    }
    if (span_us > 0)
      delivery_rate_kbps_ = bytes * 8 * 1000 / span_us;
  }
  Decide(now_us);
}

void RateController::Decide(int64_t now_us) {
  if (now_us - last_decision_us_ < kDecisionIntervalUs || recent_queue_.empty())
    return;
  const int64_t previous_decision_us = last_decision_us_;
  last_decision_us_ = now_us;
  std::vector<int64_t> queue(recent_queue_.begin(), recent_queue_.end());
  recent_queue_.clear();
  std::nth_element(queue.begin(), queue.begin() + static_cast<long>(queue.size() / 2), queue.end());
  const int64_t median_queue_us = queue[queue.size() / 2];
  const int64_t threshold_us = std::max(kQueueThresholdUs, base_delay_us() / 2);

  // Also congested: while frames waited for the link, it delivered clearly less than the
  // encoder is asked to produce (a queue that stood from the start hides from the base
  // delay, not from the rate).
  const bool over_rate =
      delivery_rate_kbps_ > 0 && bitrate_kbps_ * int64_t{10} > delivery_rate_kbps_ * 12;
  // And when frames spent most of the interval waiting for a free window slot: the link
  // (or the viewer's decoder) cannot take the frames as fast as they come.
  const bool window_bound = window_wait_us_ * 2 > now_us - previous_decision_us;
  window_wait_us_ = 0;
  if (median_queue_us > threshold_us || over_rate || window_bound) {
    last_decrease_us_ = now_us;
    if (bitrate_kbps_ <= config_.min_bitrate_kbps) {
      fps_ = std::max(kMinFps, fps_ / 2);
      return;
    }
    int64_t next = bitrate_kbps_ * 7 / 10;
    if (delivery_rate_kbps_ > 0)
      next = std::min(next, delivery_rate_kbps_ * 85 / 100);
    bitrate_kbps_ = static_cast<int>(
        std::clamp<int64_t>(next, config_.min_bitrate_kbps, config_.max_bitrate_kbps));
    return;
  }
  if (now_us - last_decrease_us_ < kHoldAfterDecreaseUs)
    return;
  if (fps_ < config_.max_fps) {
    fps_ = std::min(config_.max_fps, fps_ * 2);
    return;
  }
  int64_t next = bitrate_kbps_ + std::max(1, bitrate_kbps_ / 10);
  if (delivery_rate_kbps_ > 0)
    next = std::min(next, std::max<int64_t>(bitrate_kbps_, delivery_rate_kbps_ * 3 / 2));
  bitrate_kbps_ = static_cast<int>(
      std::clamp<int64_t>(next, config_.min_bitrate_kbps, config_.max_bitrate_kbps));
}

}  // namespace lifeline
