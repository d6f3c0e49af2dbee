// lifeline-input-bench: how long a viewer's input event takes to be injected on the host,
// on loopback, while full-screen video streams the other way.
//
// One process, the real session cores: HostSession and ViewerSession over TCP + TLS 1.3
// on 127.0.0.1 (SPAKE2 first, as always). The host streams a 1920x1080 screen whose every
// pixel changes every frame (the worst case for the video queue) at 30 fps, VP8, 8 Mbit/s.
// The viewer sends one pointer move every `--interval-ms` (20 ms); the move's x coordinate
// numbers the event. The latency is from RemoteControlViewer::SendMove() on the viewer
// until the host's injector returned from MovePointer() (for the X11 injector: the XTest
// request flushed to the X server). Same clock: both ends run in this process.
//
// Usage: lifeline-input-bench [--events N] [--interval-ms MS] [--display :N]
//   --display: inject with XTest into that X server (e.g. an Xvfb); without it, a
//   recording injector (the network and session path only).
// Prints median, p95, max, and the video fps/kbit/s seen by the viewer meanwhile.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/bench/bench_host.h"
#include "app/core/audit_log.h"
#include "app/core/host_credentials.h"
#include "app/core/host_session.h"
#include "app/core/throttle.h"
#include "app/core/viewer_session.h"
#include "base/log.h"
#include "base/time.h"
#include "base/wall_clock.h"
#include "net/tcp.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"

namespace lifeline {
namespace {

constexpr Size kScreen{1920, 1080};

// Every pixel changes every frame: a diagonal gradient that scrolls.
class FullScreenMotionCapturer final : public ScreenCapturer {
 public:
  CaptureResult CaptureFrame(std::unique_ptr<Frame>* out) override {
    auto frame = std::make_unique<Frame>(kScreen);
    const int shift = static_cast<int>(sequence_ * 7);
    for (int y = 0; y < kScreen.height; ++y) {
      uint8_t* row = frame->data() + static_cast<size_t>(y) * frame->stride();
      for (int x = 0; x < kScreen.width; ++x) {
        row[x * 4 + 0] = static_cast<uint8_t>(x + shift);
        row[x * 4 + 1] = static_cast<uint8_t>(y + shift);
        row[x * 4 + 2] = static_cast<uint8_t>((x ^ y) + shift);
        row[x * 4 + 3] = 255;
      }
    }
    frame->mutable_updated_region()->Add(Rect::FromSize(kScreen));
    frame->set_capture_time_us(MonotonicNowUs());
    frame->set_sequence(sequence_++);
    *out = std::move(frame);
    return CaptureResult::kSuccess;
  }
  Size screen_size() const override { return kScreen; }
  std::string_view name() const override { return "full-screen-motion"; }

 private:
  uint64_t sequence_ = 0;
};

// Stamps the time each numbered move was injected.
class TimingInjector final : public InputInjector {
 public:
  TimingInjector(std::unique_ptr<InputInjector> inner, std::vector<std::atomic<int64_t>>* times)
      : inner_(std::move(inner)), times_(times) {}
  Status MovePointer(int x, int y) override {
    Status st = inner_ ? inner_->MovePointer(x, y) : Status::Ok();
    if (x >= 0 && static_cast<size_t>(x) < times_->size())
      (*times_)[static_cast<size_t>(x)] = MonotonicNowUs();
    return st;
  }
  Status Button(MouseButton b, bool p) override { return inner_->Button(b, p); }
  Status Wheel(int dx, int dy) override { return inner_->Wheel(dx, dy); }
  Status Key(uint32_t k, bool p) override { return inner_->Key(k, p); }
  Status Text(std::string_view t) override { return inner_->Text(t); }
  Size screen_size() const override { return kScreen; }

 private:
  std::unique_ptr<InputInjector> inner_;
  std::vector<std::atomic<int64_t>>* times_;
};

int Main(int events, int interval_ms, const std::string& display) {
  log::SetMinLevel(log::Level::kWarning);
  if (events >= kScreen.width) {
    std::fprintf(stderr, "--events must be below %d\n", kScreen.width);
    return 2;
  }
  bench::BenchHost bench;
  if (!bench.Init())
    return 1;
  HostSecurity& security = bench.security;
  const DeviceIdentity* host_identity = &*bench.host_identity;
  const DeviceIdentity* viewer_identity = &*bench.viewer_identity;
  HostCredentials* credentials = bench.credentials.get();
  const HostPort address = bench.listener->local_address();

  std::vector<std::atomic<int64_t>> injected_us(static_cast<size_t>(events));
  std::vector<int64_t> sent_us(static_cast<size_t>(events), 0);
  std::atomic<bool> stop{false};
  std::string injector_error;
  std::thread host_thread([&] {
    auto transport = bench.listener->Accept(10'000);
    if (!transport.ok())
      return;
    auto tls = TlsHandshake(std::move(transport).value(), TlsRole::kServer, *host_identity, 10'000);
    if (!tls.ok())
      return;
    SecureChannelInfo info{(*tls)->channel_binding(), (*tls)->peer_fingerprint(), "bench"};
    HostOptions options;
    options.max_fps = 30;
    options.bitrate_kbps = 8000;
    options.remote_control.clipboard_mode = ClipboardMode::kOff;
    options.input_injector_factory =
        [&](const CaptureOptions&) -> Expected<std::unique_ptr<InputInjector>> {
      std::unique_ptr<InputInjector> inner;
      if (!display.empty()) {
        auto x11 = CreateX11InputInjector(display);
        if (!x11.ok()) {
          injector_error = x11.error().ToString();
          return x11.error();
        }
        inner = std::move(x11).value();
      } else {
        inner = std::make_unique<FakeInputInjector>(kScreen);
      }
      return std::unique_ptr<InputInjector>(new TimingInjector(std::move(inner), &injected_us));
    };
    HostSession session(options, &security, info, std::move(tls).value(),
                        [](const CaptureOptions&) -> Expected<std::unique_ptr<ScreenCapturer>> {
                          return std::unique_ptr<ScreenCapturer>(new FullScreenMotionCapturer());
                        });
    static_cast<void>(session.Run(stop));
  });

  auto transport = ConnectTcp(address, 10'000);
  if (!transport.ok())
    return 1;
  auto tls = TlsHandshake(std::move(transport).value(), TlsRole::kClient, *viewer_identity, 10'000);
  if (!tls.ok())
    return 1;
  SecureChannelInfo info{(*tls)->channel_binding(), (*tls)->peer_fingerprint(), "bench"};
  ViewerOptions viewer_options;
  viewer_options.own_device_id = DeviceIdFromFingerprint(viewer_identity->fingerprint());
  viewer_options.password = credentials->display_password();
  ViewerSession viewer(viewer_options, info, std::move(tls).value());
  if (!viewer.Start().ok())
    return 1;
  while (!viewer.authenticated() && !viewer.closed())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!viewer.authenticated()) {
    std::fprintf(stderr, "not authenticated: %s\n", viewer.close_reason().ToString().c_str());
    return 1;
  }
  // Let the video reach full speed first.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::vector<StatsSnapshot> stats;
  for (int i = 0; i < events; ++i) {
    sent_us[static_cast<size_t>(i)] = MonotonicNowUs();
    if (!viewer.remote_control().SendMove(i, 500)) {
      std::fprintf(stderr, "the session ended: %s\n", viewer.close_reason().ToString().c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    if (i % 50 == 49)
      stats.push_back(viewer.latest_stats());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  viewer.Stop();
  stop = true;
  host_thread.join();
  if (!injector_error.empty()) {
    std::fprintf(stderr, "injector: %s\n", injector_error.c_str());
    return 1;
  }

  std::vector<double> latency_ms;
  int missing = 0;
  for (int i = 0; i < events; ++i) {
    const int64_t injected = injected_us[static_cast<size_t>(i)].load();
    if (injected == 0) {
      ++missing;
      continue;
    }
    latency_ms.push_back(static_cast<double>(injected - sent_us[static_cast<size_t>(i)]) / 1000.0);
  }
  if (latency_ms.empty()) {
    std::fprintf(stderr, "no event was injected\n");
    return 1;
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  auto at = [&](double q) {
    return latency_ms[std::min(latency_ms.size() - 1,
                               static_cast<size_t>(q * (latency_ms.size() - 1) + 0.5))];
  };
  double fps_sum = 0;
  double kbps_sum = 0;
  for (const StatsSnapshot& s : stats) {
    fps_sum += s.fps;
    kbps_sum += s.kbps;
  }
  const double n = stats.empty() ? 1 : static_cast<double>(stats.size());
  std::printf(
      "input event viewer -> injected on the host (%s), %zu events every %d ms on loopback\n"
      "while %dx%d full-screen video streamed (viewer saw %.1f fps, %.0f kbit/s on average):\n"
      "  median %.2f ms, p95 %.2f ms, max %.2f ms, not injected %d\n",
      display.empty() ? "recording injector" : ("XTest on " + display).c_str(), latency_ms.size(),
      interval_ms, kScreen.width, kScreen.height, fps_sum / n, kbps_sum / n, at(0.5), at(0.95),
      latency_ms.back(), missing);
  return 0;
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  int events = 300;
  int interval_ms = 20;
  std::string display;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0)
      events = std::max(1, std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--interval-ms") == 0)
      interval_ms = std::max(1, std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--display") == 0)
      display = argv[i + 1];
  }
  return lifeline::Main(events, interval_ms, display);
}
