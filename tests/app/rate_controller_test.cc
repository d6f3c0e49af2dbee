// RateController against a simulated link (fake clock, 1 ms steps): a sender that encodes
// exactly the target bitrate at the target frame rate with a window of 2 frames, a FIFO
// bottleneck of a given capacity, 10 ms each way and 3 ms of decoding before the ack.
#include "app/core/rate_controller.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <vector>

namespace lifeline {
namespace {

constexpr int64_t kOneWayUs = 10'000;
constexpr int64_t kDecodeUs = 3'000;
constexpr int64_t kBaseRoundTripUs = 2 * kOneWayUs + kDecodeUs;

class SimulatedSession {
 public:
  explicit SimulatedSession(int start_kbps, int max_kbps = 4000)
      : controller_(RateControllerConfig{start_kbps, 150, max_kbps, 30}) {}

  void set_capacity_kbps(int kbps) { capacity_kbps_ = kbps; }

  // Runs until `until_us`, recording (send time, round trip) of every acked frame.
  void RunUntil(int64_t until_us) {
    for (; now_us_ < until_us; now_us_ += 1000) {
      // Acks due now.
      while (!acks_.empty() && acks_.front().second <= now_us_) {
        controller_.OnFrameAcked(acks_.front().first, now_us_);
        --in_flight_;
        acks_.pop_front();
      }
      // The bottleneck drains at its capacity.
      double budget = capacity_kbps_ / 8.0;  // Bytes per millisecond.
      while (budget > 0 && !link_.empty()) {
        Packet& p = link_.front();
        const double sent = std::min<double>(budget, p.remaining);
        p.remaining -= sent;
        budget -= sent;
        if (p.remaining <= 0) {
          acks_.push_back({p.frame_id, now_us_ + kBaseRoundTripUs});
          round_trips_.push_back({p.sent_us, now_us_ + kBaseRoundTripUs - p.sent_us});
          link_.pop_front();
        }
      }
      // The encoder, paced at the target frame rate, within the window.
      const int64_t interval_us = 1'000'000 / controller_.target_fps();
      if (now_us_ >= next_frame_us_ && in_flight_ < 2) {
        const int64_t waited_us = now_us_ - next_frame_us_;
        next_frame_us_ = now_us_ + interval_us;
        const int64_t bytes = std::max<int64_t>(
            200, int64_t{controller_.target_bitrate_kbps()} * 1000 / 8 * interval_us / 1'000'000);
        controller_.OnFrameSent(next_id_, bytes, now_us_, waited_us);
        link_.push_back(Packet{next_id_, static_cast<double>(bytes), now_us_});
        ++next_id_;
        ++in_flight_;
      }
    }
  }

  // Median and maximum round trip of frames sent in [from_us, to_us).
  std::pair<int64_t, int64_t> RoundTrip(int64_t from_us, int64_t to_us) const {
    std::vector<int64_t> values;
    for (const auto& [sent, rtt] : round_trips_) {
      if (sent >= from_us && sent < to_us)
        values.push_back(rtt);
    }
    REQUIRE_FALSE(values.empty());
    std::sort(values.begin(), values.end());
    return {values[values.size() / 2], values.back()};
  }

  RateController& controller() { return controller_; }

 private:
  struct Packet {
    uint64_t frame_id;
    double remaining;
    int64_t sent_us;
  };
  RateController controller_;
  int capacity_kbps_ = 10'000;
  int64_t now_us_ = 0;
  int64_t next_frame_us_ = 0;
  uint64_t next_id_ = 1;
  int in_flight_ = 0;
  std::deque<Packet> link_;
  std::deque<std::pair<uint64_t, int64_t>> acks_;
  std::vector<std::pair<int64_t, int64_t>> round_trips_;
};

TEST_CASE("A fast link keeps the full bitrate and the base round trip", "[app][rate]") {
  SimulatedSession session(4000);
  session.set_capacity_kbps(20'000);
  session.RunUntil(5'000'000);
  CHECK(session.controller().target_bitrate_kbps() == 4000);
  CHECK(session.controller().target_fps() == 30);
  // Base round trip plus sending one 16.7 KB frame at 20 Mbit/s (6.7 ms).
  const auto [median, max] = session.RoundTrip(1'000'000, 5'000'000);
  CHECK(median < kBaseRoundTripUs + 8'000);
  CHECK(max < kBaseRoundTripUs + 15'000);
}

TEST_CASE("A link that drops to 1 Mbit/s is followed within a second, then recovers",
          "[app][rate]") {
  SimulatedSession session(4000);
  session.set_capacity_kbps(20'000);
  session.RunUntil(3'000'000);
  session.set_capacity_kbps(1000);
  session.RunUntil(4'000'000);
  // Within one second the bitrate is under the new capacity...
  CHECK(session.controller().target_bitrate_kbps() <= 1000);
  session.RunUntil(8'000'000);
  // ...and frames sent after that second see no standing queue.
  const auto [median, max] = session.RoundTrip(4'000'000, 8'000'000);
  INFO("median " << median << " us, max " << max << " us, bitrate "
                 << session.controller().target_bitrate_kbps());
  CHECK(median < kBaseRoundTripUs + 40'000);
  CHECK(max < kBaseRoundTripUs + 150'000);
  CHECK(session.controller().target_bitrate_kbps() >= 500);  // It still uses the link.

  // The link comes back: the bitrate climbs back within a few seconds.
  session.set_capacity_kbps(20'000);
  session.RunUntil(14'000'000);
  CHECK(session.controller().target_bitrate_kbps() >= 3000);
  const auto [after, after_max] = session.RoundTrip(12'000'000, 14'000'000);
  CHECK(after < kBaseRoundTripUs + 10'000);
}

TEST_CASE("Below the bitrate floor the frame rate gives way, and returns", "[app][rate]") {
  SimulatedSession session(1000);
  session.set_capacity_kbps(80);
  session.RunUntil(10'000'000);
  CHECK(session.controller().target_bitrate_kbps() == 150);
  CHECK(session.controller().target_fps() < 30);
  session.set_capacity_kbps(20'000);
  session.RunUntil(16'000'000);
  CHECK(session.controller().target_fps() == 30);
  CHECK(session.controller().target_bitrate_kbps() > 150);
}

TEST_CASE("Unknown acks are ignored", "[app][rate]") {
  RateController controller(RateControllerConfig{});
  controller.OnFrameAcked(42, 1'000'000);
  CHECK(controller.target_bitrate_kbps() == 4000);
  controller.OnFrameSent(1, 10'000, 0, 0);
  controller.OnFrameAcked(1, 20'000);
  CHECK(controller.base_delay_us() == 20'000);
}

}  // namespace
}  // namespace lifeline
