// lifeline-video-bench: the issue-8 video benchmark. Real Xvfb, real X11 capture (DAMAGE
// driven, XShm), the real encoders and decoders, the host's thread layout.
//
//   lifeline-video-bench [--codec vp8|vp9|h264|all] [--workload idle|scroll|video|drag|all]
//                        [--seconds 6] [--bitrate-kbps 4000] [--fps 30] [--display :N]
//
// Starts its own Xvfb at 1920x1080 (or uses --display). A painter thread with its own X
// connection draws one workload at `fps`, the way applications draw:
//   idle    the desktop once, then nothing;
//   scroll  an editor window (1600x960) of text scrolls up 10 pixels per frame: XCopyArea
//           in the server, then the new strip of text is put at the bottom;
//   video   the whole screen shows a moving picture: a pan over a large landscape of
//           smooth noise with fine texture (4 pixels per frame across, a slow vertical
//           sway) and a bright moving object;
//   drag    a 800x600 window with text is dragged over a desktop (12, 6 pixels per frame,
//           bouncing); the uncovered desktop and the window are redrawn.
// The pipeline is the host's and the viewer's: capture thread (WaitForChange, CaptureFrame)
// -> latest-frame slot (damage merged) -> encode thread (at most 2 frames in flight, as the
// ack window) -> decode thread (acks after decoding). What is not included: TLS, TCP and
// chunking (loopback adds well under a millisecond; see docs/benchmarks.md for the
// executables' end-to-end run).
//
// Per codec and workload it prints: capture ms (reading the damaged rows and comparing
// tiles), convert ms (BGRA->I420 of the damage), encode ms, decode ms, kbit/s, frames
// delivered per second, latency from the end of capture to decoded (median, p95), PSNR of
// sampled decoded frames against the captured ones, and host CPU (capture + encode
// threads, % of one core). The first second of each run is warm-up and not counted.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/latest_slot.h"
#include "base/time.h"
#include "capture/frame.h"
#include "capture/x11/screen_capturer_x11.h"
#include "capture/x11/screen_painter.h"
#include "codec/bench/bench_util.h"
#include "codec/video_decoder.h"
#include "codec/video_encoder.h"

extern char** environ;

namespace lifeline {
namespace {

constexpr Size kScreen{1920, 1080};
constexpr int kWindowFrames = 2;
constexpr int64_t kWarmupUs = 1'000'000;
constexpr int kPsnrEveryNthFrame = 12;
constexpr size_t kMaxPsnrSamples = 12;

enum class Workload { kIdle, kScroll, kVideo, kDrag };

const char* Name(Workload w) {
  switch (w) {
    case Workload::kIdle:
      return "idle";
    case Workload::kScroll:
      return "scrolling text";
    case Workload::kVideo:
      return "full-screen video";
    case Workload::kDrag:
      return "window drag";
  }
  return "?";
}

struct Options {
  std::vector<VideoCodec> codecs{VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264};
  std::vector<Workload> workloads{Workload::kIdle, Workload::kScroll, Workload::kVideo,
                                  Workload::kDrag};
  int seconds = 6;
  int bitrate_kbps = 4000;
  int fps = 30;
  std::string display;
};

using bench::Hash;

// A whole-screen BGRA picture the painter thread composes before putting parts of it.
struct Canvas {
  Size size;
  std::vector<uint8_t> pixels;
  explicit Canvas(Size s) : size(s), pixels(static_cast<size_t>(s.width) * s.height * 4) {}
  uint8_t* At(int x, int y) { return &pixels[(static_cast<size_t>(y) * size.width + x) * 4]; }
  int stride() const { return size.width * 4; }
  void Put(int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    uint8_t* p = At(x, y);
    p[0] = b;
    p[1] = g;
    p[2] = r;
    p[3] = 255;
  }
};

void DrawDesktop(Canvas* c) {
  for (int y = 0; y < c->size.height; ++y) {
    for (int x = 0; x < c->size.width; ++x) {
      const int g = (x + 2 * y) * 255 / (c->size.width + 2 * c->size.height);
      c->Put(x, y, static_cast<uint8_t>(40 + g / 4), static_cast<uint8_t>(80 + g / 3),
             static_cast<uint8_t>(140 + g / 3));
    }
  }
  // Icons down the left side.
  for (int i = 0; i < 8; ++i) {
    const uint32_t h = Hash(static_cast<uint32_t>(i) + 7);
    for (int y = 30 + i * 110; y < 94 + i * 110; ++y) {
      for (int x = 30; x < 94; ++x)
        c->Put(x, y, static_cast<uint8_t>(h), static_cast<uint8_t>(h >> 8),
               static_cast<uint8_t>(h >> 16));
    }
  }
}

// One pixel row of a page of text: 9x20 pixel cells, glyphs 7x12 of dark blocky strokes
// on white, lines of varying length with spaces between words. `doc_y` is the row in the
// document, `x0` the screen column of the page's left edge.
void DrawTextRow(Canvas* c, int screen_y, int x0, int width, int doc_y, uint32_t seed) {
  const int line = doc_y / 20;
  const int r = doc_y % 20;
  const uint32_t line_hash = Hash(static_cast<uint32_t>(line) * 2654435761u + seed);
  const int line_chars = 20 + static_cast<int>(line_hash % 150);
  uint8_t* row = c->At(x0, screen_y);
  for (int x = 0; x < width; ++x) {
    bool on = false;
    const int cell = (x - 12) / 9;
    const int gx = (x - 12) % 9;
    if (x >= 12 && cell < line_chars && r >= 4 && r < 16 && gx >= 1 && gx < 8) {
      const uint32_t code = Hash(line_hash + static_cast<uint32_t>(cell) * 40503u);
      if (code % 6 != 0) {  // Otherwise a space.
        const uint32_t bits = Hash(code % 80 + 1000);
        const int bit = ((r - 4) / 2) * 4 + (gx - 1) * 4 / 7;
        on = (bits >> bit) & 1u;
      }
    }
    const uint8_t v = on ? 30 : 250;
    row[x * 4 + 0] = v;
    row[x * 4 + 1] = v;
    row[x * 4 + 2] = on ? 30 : 252;
    row[x * 4 + 3] = 255;
  }
}

class Workloads {
 public:
  Workloads(Workload workload, ScreenPainter* painter)
      : workload_(workload), painter_(painter), canvas_(kScreen), background_(kScreen) {
    DrawDesktop(&background_);
    canvas_.pixels = background_.pixels;
    if (workload_ == Workload::kScroll) {
      for (int y = kEditor.y; y < kEditor.bottom(); ++y)
        DrawTextRow(&canvas_, y, kEditor.x, kEditor.width, y - kEditor.y, 1);
    }
    if (workload_ == Workload::kVideo) {
      world_ = std::make_unique<Canvas>(Size{kScreen.width + 640, kScreen.height + 360});
      MakeLandscape(world_.get());
      ComposeVideo(0);
    }
    if (workload_ == Workload::kDrag) {
      window_ = std::make_unique<Canvas>(kDragWindow);
      for (int y = 0; y < kDragWindow.height; ++y) {
        if (y < 28) {
          for (int x = 0; x < kDragWindow.width; ++x)
            window_->Put(x, y, 60, 70, 90);
        } else {
          DrawTextRow(window_.get(), y, 0, kDragWindow.width, y - 28, 5);
        }
      }
      drag_ = DragRect(0);
      BlitWindow(drag_);
    }
    painter_->PutRect(canvas_.pixels.data(), canvas_.stride(), Rect::FromSize(kScreen));
    painter_->Sync();
  }

  void Step(int frame) {
    switch (workload_) {
      case Workload::kIdle:
        return;
      case Workload::kScroll: {
        constexpr int kStep = 10;
        scroll_ += kStep;
        painter_->CopyArea(
            Rect{kEditor.x, kEditor.y + kStep, kEditor.width, kEditor.height - kStep}, 0, -kStep);
        const int top = kEditor.bottom() - kStep;
        for (int y = top; y < kEditor.bottom(); ++y)
          DrawTextRow(&canvas_, y, kEditor.x, kEditor.width, y - kEditor.y + scroll_, 1);
        painter_->PutRect(canvas_.pixels.data(), canvas_.stride(),
                          Rect{kEditor.x, top, kEditor.width, kStep});
        break;
      }
      case Workload::kVideo:
        ComposeVideo(frame);
        painter_->PutRect(canvas_.pixels.data(), canvas_.stride(), Rect::FromSize(kScreen));
        break;
      case Workload::kDrag: {
        const Rect next = DragRect(frame);
        // Uncover the desktop where the window was, draw the window where it is now.
        for (int y = drag_.y; y < drag_.bottom(); ++y)
          std::memcpy(canvas_.At(drag_.x, y), background_.At(drag_.x, y),
                      static_cast<size_t>(drag_.width) * 4);
        BlitWindow(next);
        painter_->PutRect(canvas_.pixels.data(), canvas_.stride(), drag_.BoundingUnion(next));
        drag_ = next;
        break;
      }
    }
    painter_->Sync();
  }

 private:
  static constexpr Rect kEditor{160, 60, 1600, 960};
  static constexpr Size kDragWindow{800, 600};

  static Rect DragRect(int frame) {
    auto bounce = [](int t, int range) {
      const int m = t % (2 * range);
      return m < range ? m : 2 * range - m;
    };
    return Rect{100 + bounce(frame * 12, kScreen.width - kDragWindow.width - 200),
                50 + bounce(frame * 6, kScreen.height - kDragWindow.height - 100),
                kDragWindow.width, kDragWindow.height};
  }

  void BlitWindow(const Rect& at) {
    for (int y = 0; y < at.height; ++y)
      std::memcpy(canvas_.At(at.x, at.y + y), window_->At(0, y), static_cast<size_t>(at.width) * 4);
  }

  // Smooth value noise of several octaves, coloured like a landscape (sky, hills, grass).
  static void MakeLandscape(Canvas* w) {
    auto lattice = [](int x, int y, int octave) {
      return static_cast<double>(Hash(static_cast<uint32_t>(x) * 73856093u ^
                                      static_cast<uint32_t>(y) * 19349663u ^
                                      static_cast<uint32_t>(octave) * 83492791u) &
                                 0xffff) /
             65535.0;
    };
    auto noise = [&](double x, double y, int octave) {
      const int xi = static_cast<int>(std::floor(x));
      const int yi = static_cast<int>(std::floor(y));
      const double fx = x - xi;
      const double fy = y - yi;
      const double sx = fx * fx * (3 - 2 * fx);
      const double sy = fy * fy * (3 - 2 * fy);
      const double a =
          lattice(xi, yi, octave) + sx * (lattice(xi + 1, yi, octave) - lattice(xi, yi, octave));
      const double b = lattice(xi, yi + 1, octave) +
                       sx * (lattice(xi + 1, yi + 1, octave) - lattice(xi, yi + 1, octave));
      return a + sy * (b - a);
    };
    for (int y = 0; y < w->size.height; ++y) {
      for (int x = 0; x < w->size.width; ++x) {
        double n = 0;
        double amplitude = 0.5;
        double scale = 1.0 / 160;
        for (int o = 0; o < 5; ++o) {
          n += amplitude * noise(x * scale, y * scale, o);
          amplitude *= 0.5;
          scale *= 2.1;
        }
        // Fine texture fixed to the scene (foliage, gravel), moving with the pan as film
        // grain does not: what makes real video expensive to code.
        n += (static_cast<double>(
                  Hash(static_cast<uint32_t>(y) * 7919u + static_cast<uint32_t>(x)) & 0xff) -
              127.5) /
             1400.0;
        const double horizon = 0.45 * w->size.height + 120 * (n - 0.5);
        if (y < horizon) {
          w->Put(x, y, static_cast<uint8_t>(110 + 80 * n), static_cast<uint8_t>(160 + 60 * n), 235);
        } else {
          w->Put(x, y, static_cast<uint8_t>(40 + 120 * n), static_cast<uint8_t>(90 + 130 * n),
                 static_cast<uint8_t>(30 + 60 * n));
        }
      }
    }
  }

  void ComposeVideo(int frame) {
    const int ox = (frame * 4) % 640;
    const int oy = static_cast<int>(180 + 170 * std::sin(frame * 0.02));
    for (int y = 0; y < kScreen.height; ++y)
      std::memcpy(canvas_.At(0, y), world_->At(ox, oy + y), static_cast<size_t>(kScreen.width) * 4);
    const int cx = static_cast<int>(960 + 600 * std::sin(frame * 0.05));
    const int cy = static_cast<int>(540 + 300 * std::cos(frame * 0.037));
    for (int y = std::max(0, cy - 70); y < std::min(kScreen.height, cy + 70); ++y) {
      for (int x = std::max(0, cx - 110); x < std::min(kScreen.width, cx + 110); ++x) {
        const double dx = (x - cx) / 110.0;
        const double dy = (y - cy) / 70.0;
        const double d = dx * dx + dy * dy;
        if (d < 1) {
          uint8_t* p = canvas_.At(x, y);
          const double k = 1 - d;
          p[0] = static_cast<uint8_t>(p[0] * (1 - k) + 40 * k);
          p[1] = static_cast<uint8_t>(p[1] * (1 - k) + 120 * k);
          p[2] = static_cast<uint8_t>(p[2] * (1 - k) + 250 * k);
        }
      }
    }
  }

  const Workload workload_;
  ScreenPainter* const painter_;
  Canvas canvas_;
  Canvas background_;
  std::unique_ptr<Canvas> world_;
  std::unique_ptr<Canvas> window_;
  Rect drag_;
  int scroll_ = 0;
};

struct Sample {
  std::unique_ptr<Frame> source;
  I420Image decoded;
};

struct Results {
  std::vector<double> capture_ms, convert_ms, encode_ms, decode_ms, latency_ms;
  int64_t bytes = 0;
  int frames_decoded = 0;
  int frames_drawn = 0;
  int frames_captured = 0;
  int keyframes = 0;
  int64_t host_cpu_us = 0;  // Capture + encode threads, in the measured window.
  int64_t measured_us = 0;
  std::vector<Sample> samples;
  std::string implementation;
};

// The run: painter, capture, encode and decode threads for `seconds`.
bool RunOne(const std::string& display,
            VideoCodec codec,
            Workload workload,
            const Options& options,
            Results* results) {
  auto painter = ScreenPainter::Open(display);
  if (!painter.ok()) {
    std::fprintf(stderr, "painter: %s\n", painter.error().ToString().c_str());
    return false;
  }
  Workloads content(workload, painter->get());

  X11CaptureOptions capture_options;
  capture_options.display = display;
  auto capturer = CreateX11ScreenCapturer(capture_options);
  if (!capturer.ok()) {
    std::fprintf(stderr, "capture: %s\n", capturer.error().ToString().c_str());
    return false;
  }
  EncoderConfig config;
  config.codec = codec;
  config.target_bitrate_kbps = options.bitrate_kbps;
  config.max_fps = options.fps;
  auto encoder = CreateVideoEncoder(config);
  auto decoder = CreateVideoDecoder(codec);
  if (!encoder.ok() || !decoder.ok()) {
    std::fprintf(stderr, "codec %s unavailable\n", std::string(ToString(codec)).c_str());
    return false;
  }
  results->implementation = std::string((*encoder)->implementation());

  std::atomic<bool> stop{false};
  const int64_t start_us = MonotonicNowUs();
  const int64_t measure_from_us = start_us + kWarmupUs;
  const int64_t end_us = measure_from_us + int64_t{options.seconds} * 1'000'000;
  auto measuring = [&](int64_t t) { return t >= measure_from_us && t < end_us; };

  LatestSlot<std::unique_ptr<Frame>> slot(MergeFrameDamage);
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::pair<EncodedFrame, std::unique_ptr<Frame>>> to_decode;
  int in_flight = 0;
  std::atomic<int64_t> capture_cpu_us{0};
  std::atomic<int64_t> encode_cpu_us{0};

  std::thread painter_thread([&] {
    const auto period = std::chrono::microseconds(1'000'000 / options.fps);
    auto next = std::chrono::steady_clock::now();
    for (int frame = 1; !stop.load(); ++frame) {
      content.Step(frame);
      if (measuring(MonotonicNowUs()))
        ++results->frames_drawn;
      next += period;
      std::this_thread::sleep_until(next);
    }
  });

  std::thread capture_thread([&] {
    const auto period = std::chrono::microseconds(1'000'000 / options.fps);
    auto next = std::chrono::steady_clock::now();
    int64_t cpu_at_start = -1;
    while (!stop.load()) {
      if (cpu_at_start < 0 && MonotonicNowUs() >= measure_from_us)
        cpu_at_start = bench::CpuUs(CLOCK_THREAD_CPUTIME_ID);
      if (!(*capturer)->WaitForChange(100))
        continue;
      std::unique_ptr<Frame> frame;
      if ((*capturer)->CaptureFrame(&frame) != CaptureResult::kSuccess)
        continue;
      if (measuring(frame->capture_time_us())) {
        std::lock_guard lock(mutex);
        results->capture_ms.push_back(frame->capture_duration_us() / 1000.0);
        ++results->frames_captured;
      }
      slot.Put(std::move(frame));
      next += period;
      const auto now = std::chrono::steady_clock::now();
      if (next < now)
        next = now;
      std::this_thread::sleep_until(next);
    }
    if (cpu_at_start >= 0)
      capture_cpu_us = bench::CpuUs(CLOCK_THREAD_CPUTIME_ID) - cpu_at_start;
  });

  std::thread encode_thread([&] {
    int64_t cpu_at_start = -1;
    int index = 0;
    while (!stop.load()) {
      if (cpu_at_start < 0 && MonotonicNowUs() >= measure_from_us)
        cpu_at_start = bench::CpuUs(CLOCK_THREAD_CPUTIME_ID);
      {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::milliseconds(50),
                    [&] { return in_flight < kWindowFrames || stop.load(); });
        if (in_flight >= kWindowFrames)
          continue;
      }
      auto taken = slot.WaitAndTake(std::chrono::milliseconds(50));
      if (!taken || !*taken)
        continue;
      std::unique_ptr<Frame> frame = std::move(*taken);
      EncodedFrame encoded;
      const EncodeResult result = (*encoder)->Encode(*frame, false, &encoded);
      if (result != EncodeResult::kOk)
        continue;
      encoded.capture_time_us = frame->capture_time_us();
      const EncodeTimings timings = (*encoder)->last_timings();
      std::unique_ptr<Frame> keep;
      if (measuring(frame->capture_time_us()) && ++index % kPsnrEveryNthFrame == 0)
        keep = std::move(frame);
      std::lock_guard lock(mutex);
      if (measuring(encoded.capture_time_us)) {
        results->convert_ms.push_back(timings.convert_us / 1000.0);
        results->encode_ms.push_back(timings.encode_us / 1000.0);
        results->bytes += static_cast<int64_t>(encoded.data.size());
        results->keyframes += encoded.keyframe ? 1 : 0;
      }
      ++in_flight;
      to_decode.emplace_back(std::move(encoded), std::move(keep));
      cv.notify_all();
    }
    if (cpu_at_start >= 0)
      encode_cpu_us = bench::CpuUs(CLOCK_THREAD_CPUTIME_ID) - cpu_at_start;
  });

  std::thread decode_thread([&] {
    I420Image image;
    while (true) {
      std::pair<EncodedFrame, std::unique_ptr<Frame>> item;
      {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::milliseconds(50),
                    [&] { return !to_decode.empty() || stop.load(); });
        if (to_decode.empty()) {
          if (stop.load())
            return;
          continue;
        }
        item = std::move(to_decode.front());
        to_decode.pop_front();
      }
      const int64_t begin_us = MonotonicNowUs();
      const DecodeResult result = (*decoder)->Decode(item.first.data, &image);
      const int64_t done_us = MonotonicNowUs();
      std::lock_guard lock(mutex);
      --in_flight;
      cv.notify_all();
      if (result != DecodeResult::kOk)
        continue;
      FitDecodedToAnnouncedSize(item.first.size, &image);
      if (measuring(item.first.capture_time_us)) {
        results->decode_ms.push_back((done_us - begin_us) / 1000.0);
        results->latency_ms.push_back((done_us - item.first.capture_time_us) / 1000.0);
        ++results->frames_decoded;
        if (item.second && results->samples.size() < kMaxPsnrSamples)
          results->samples.push_back(Sample{std::move(item.second), image});
      }
    }
  });

  while (MonotonicNowUs() < end_us)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  slot.Close();
  cv.notify_all();
  painter_thread.join();
  capture_thread.join();
  encode_thread.join();
  decode_thread.join();
  results->measured_us = end_us - measure_from_us;
  results->host_cpu_us = capture_cpu_us.load() + encode_cpu_us.load();
  return true;
}

// Starts Xvfb with -displayfd; returns its pid and sets `*display`.
pid_t StartXvfb(std::string* display) {
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  const std::string fd_text = std::to_string(fds[1]);
  const std::string screen =
      std::to_string(kScreen.width) + "x" + std::to_string(kScreen.height) + "x24";
  std::vector<std::string> args = {"Xvfb", "-displayfd", fd_text, "-screen", "0",
                                   screen, "-nolisten",  "tcp",   "-noreset"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, "Xvfb", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (err != 0) {
    close(fds[0]);
    return -1;
  }
  std::string number;
  char ch;
  while (read(fds[0], &ch, 1) == 1 && ch != '\n')
    number += ch;
  close(fds[0]);
  if (number.empty()) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
  }
  *display = ":" + number;
  return pid;
}

double AveragePsnr(const std::vector<Sample>& samples) {
  if (samples.empty())
    return 0;
  double sum = 0;
  std::vector<uint8_t> rgba;
  for (const Sample& s : samples) {
    ConvertI420ToRgba(s.decoded, &rgba);
    sum += bench::PsnrRgb(*s.source, rgba);
  }
  return sum / static_cast<double>(samples.size());
}

void PrintRow(VideoCodec codec, Workload workload, const Results& r) {
  const double seconds = r.measured_us / 1e6;
  const bench::Summary capture = bench::Summarize(r.capture_ms);
  const bench::Summary convert = bench::Summarize(r.convert_ms);
  const bench::Summary encode = bench::Summarize(r.encode_ms);
  const bench::Summary decode = bench::Summarize(r.decode_ms);
  const bench::Summary latency = bench::Summarize(r.latency_ms);
  std::printf(
      "| %s (%s) | %s | %.2f / %.2f | %.2f / %.2f | %.1f / %.1f | %.1f | %.0f | %.1f of %.1f | "
      "%.1f / %.1f | %s | %.1f |\n",
      std::string(ToString(codec)).c_str(), r.implementation.c_str(), Name(workload),
      capture.median, capture.p95, convert.median, convert.p95, encode.median, encode.p95,
      decode.median, r.bytes * 8.0 / 1000.0 / seconds, r.frames_decoded / seconds,
      r.frames_drawn / seconds, latency.median, latency.p95,
      r.samples.empty() ? "-"
                        : (std::to_string(AveragePsnr(r.samples)).substr(0, 4) + " dB").c_str(),
      100.0 * static_cast<double>(r.host_cpu_us) / static_cast<double>(r.measured_us));
  std::fflush(stdout);
}

bool ParseList(const char* text, Options* options, bool codecs) {
  const std::string value = text;
  if (codecs) {
    if (value == "all")
      return true;
    auto codec = ParseVideoCodec(value);
    if (!codec.ok())
      return false;
    options->codecs = {*codec};
    return true;
  }
  if (value == "all")
    return true;
  for (Workload w : {Workload::kIdle, Workload::kScroll, Workload::kVideo, Workload::kDrag}) {
    const std::string name = Name(w);
    if (value == name.substr(0, name.find(' ')) || (w == Workload::kScroll && value == "scroll") ||
        (w == Workload::kVideo && value == "video") || (w == Workload::kDrag && value == "drag")) {
      options->workloads = {w};
      return true;
    }
  }
  return false;
}

int Main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = value != nullptr;
    if (arg == "--codec" && ok) {
      ok = ParseList(value, &options, true);
    } else if (arg == "--workload" && ok) {
      ok = ParseList(value, &options, false);
    } else if (arg == "--seconds" && ok) {
      options.seconds = std::atoi(value);
      ok = options.seconds > 0;
    } else if (arg == "--bitrate-kbps" && ok) {
      options.bitrate_kbps = std::atoi(value);
      ok = options.bitrate_kbps > 0;
    } else if (arg == "--fps" && ok) {
      options.fps = std::atoi(value);
      ok = options.fps > 0 && options.fps <= 120;
    } else if (arg == "--display" && ok) {
      options.display = value;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: lifeline-video-bench [--codec vp8|vp9|h264|all] "
                   "[--workload idle|scroll|video|drag|all] [--seconds N] "
                   "[--bitrate-kbps N] [--fps N] [--display :N]\n");
      return 2;
    }
    ++i;
  }
  std::string display = options.display;
  pid_t xvfb = -1;
  if (display.empty()) {
    xvfb = StartXvfb(&display);
    if (xvfb < 0) {
      std::fprintf(stderr, "cannot start Xvfb\n");
      return 1;
    }
  }
  std::printf("1920x1080 on Xvfb %s, %d fps, target %d kbit/s, %d s per run after 1 s warm-up\n\n",
              display.c_str(), options.fps, options.bitrate_kbps, options.seconds);
  std::printf(
      "| codec | workload | capture ms med / p95 | convert ms med / p95 | encode ms med / p95 | "
      "decode ms med | kbit/s | fps delivered of drawn | latency ms med / p95 | PSNR | host CPU "
      "%% of a core |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (VideoCodec codec : options.codecs) {
    for (Workload workload : options.workloads) {
      Results results;
      if (!RunOne(display, codec, workload, options, &results)) {
        ++failures;
        continue;
      }
      PrintRow(codec, workload, results);
    }
  }
  if (xvfb > 0) {
    kill(xvfb, SIGTERM);
    waitpid(xvfb, nullptr, 0);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  return lifeline::Main(argc, argv);
}
