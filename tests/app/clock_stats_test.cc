#include <catch2/catch.hpp>

#include "app/core/clock_sync.h"
#include "app/core/stats.h"

namespace lifeline {
namespace {

TEST_CASE("ClockSync recovers a clock offset, preferring the least delayed sample",
          "[app][clock]") {
  ClockSync sync;
  CHECK_FALSE(sync.has_estimate());
  // Host clock = viewer clock + 5 s. One-way delay 1 ms each way.
  sync.AddSample(1'000'000, 6'001'000, 1'002'000);
  CHECK(sync.offset_us() == 5'000'000);
  // A queued sample (50 ms out, 1 ms back) would give a wrong offset: ignored by min-RTT.
  sync.AddSample(2'000'000, 7'050'000, 2'051'000);
  CHECK(sync.offset_us() == 5'000'000);
  CHECK(sync.last_rtt_us() == 51'000);
  CHECK(sync.HostToViewerUs(6'000'000) == 1'000'000);
  sync.AddSample(10, 20, 5);  // Receive before send: ignored.
  CHECK(sync.last_rtt_us() == 51'000);
}

TEST_CASE("Stats: per-second fps, kbit/s and latency percentiles", "[app][stats]") {
  FakeClock clock(0);
  StatsAccumulator stats(clock);
  StatsSnapshot snapshot;
  for (int i = 0; i < 30; ++i) {
    stats.OnFrameDecoded(1000, (i + 1) * 1000, 640, 480);  // latencies 1..30 ms
  }
  stats.SetRttUs(2500);
  clock.AdvanceUs(500'000);
  CHECK_FALSE(stats.MaybeCloseInterval(1'000'000, &snapshot));
  clock.AdvanceUs(500'000);
  REQUIRE(stats.MaybeCloseInterval(1'000'000, &snapshot));
  CHECK(snapshot.fps == Approx(30));
  CHECK(snapshot.kbps == Approx(240));  // 30 * 1000 bytes * 8 / 1000
  CHECK(snapshot.latency_median_ms == Approx(16).margin(1));
  CHECK(snapshot.latency_p95_ms == Approx(29).margin(1));
  CHECK(snapshot.rtt_ms == Approx(2.5));
  CHECK(snapshot.width == 640);
  const std::string json = ToJsonLine(snapshot);
  CHECK(json.find("\"fps\":30.00") != std::string::npos);
  CHECK(json.front() == '{');
  CHECK(json.back() == '}');
  // An idle second: zero fps, unknown latency.
  clock.AdvanceUs(1'000'000);
  REQUIRE(stats.MaybeCloseInterval(1'000'000, &snapshot));
  CHECK(snapshot.fps == 0);
  CHECK(snapshot.latency_median_ms == -1);
  CHECK(snapshot.frames_total == 30);
}

}  // namespace
}  // namespace lifeline
