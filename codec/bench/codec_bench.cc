// lifeline-codec-bench: encodes a synthetic, moving desktop with the real encoders and
// decoders and prints per-frame costs, bitrate and quality.
//
//   lifeline-codec-bench [--codec vp8|vp9|all] [--size 1920x1080] [--frames 150]
//                        [--bitrate-kbps 4000] [--threads 0] [--cpu-used N]
//                        [--max-q N] [--buffer-ms N] [--workload drag|scroll] [--verbose]
//
// Workloads (30 fps), on a desktop of gradient and text:
//   drag (default): a 720x480 window is dragged across it (12 pixels per frame); every
//     20th frame the lower third is replaced (new text); a 2x16 cursor blinks every 15
//     frames. The updated region is exact, as a capturer with damage tracking reports it.
//   scroll: the worst case, the whole screen scrolls up 6 pixels every frame (full damage).
// The first frame (the keyframe) is reported apart.
//
// Measured (RelWithDebInfo, GCC 12, libvpx 1.12, 2-core Xeon VM, 4 Mbit/s, 1920x1080;
// encode = Encode() wall time incl. conversion, VP8 on 1 thread, VP9 on 2):
//                      convert ms     encode ms      decode ms   kbit/s  PSNR dB
//                      median  p95    median  p95    median
//   VP8 drag            0.31  0.45    11.4   15.4      3.6       3854    32.4
//   VP9 drag            0.32  0.44     7.4    9.8      4.5       3473    34.8
//   VP8 scroll          0.65  0.73     9.5   12.8      3.8       2786    34.9
//   VP9 scroll          0.66  0.74    11.6   15.5      6.0       2659    36.6
//   Keyframes: VP8 292-344 KB in 75 ms (32.2-32.6 dB), VP9 452-529 KB in 100-120 ms
//   (34.7-35.6 dB).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <time.h>

#include "base/time.h"
#include "capture/frame.h"
#include "codec/bench/bench_util.h"
#include "codec/video_decoder.h"
#include "codec/video_encoder_vpx.h"

namespace lifeline {
namespace {

struct Options {
  std::vector<VideoCodec> codecs{VideoCodec::kVp8, VideoCodec::kVp9};
  Size size{1920, 1080};
  int frames = 150;
  int bitrate_kbps = 4000;
  int threads = 0;
  VpxEncoderTuning tuning;
  bool scroll = false;
  bool verbose = false;
};

using bench::Hash;

void Put(uint8_t* p, uint8_t r, uint8_t g, uint8_t b) {
  p[0] = b;
  p[1] = g;
  p[2] = r;
  p[3] = 255;
}

// Gradient plus lines of pseudo-random glyphs inside `area`; `seed` picks the text.
void DrawDesktop(Frame* frame, const Rect& area, uint32_t seed) {
  for (int y = area.y; y < area.bottom(); ++y) {
    for (int x = area.x; x < area.right(); ++x) {
      const int g = (x + y) * 255 / (frame->width() + frame->height());
      Put(frame->PixelAt(x, y), static_cast<uint8_t>(200 + g / 5), 210,
          static_cast<uint8_t>(230 - g / 6));
    }
  }
  for (int line_y = area.y + 6; line_y + 12 < area.bottom(); line_y += 18) {
    for (int cell_x = area.x + 10; cell_x + 8 < area.right() - 200; cell_x += 8) {
      const uint32_t glyph =
          Hash(seed * 7919u + static_cast<uint32_t>(line_y) * 131u + static_cast<uint32_t>(cell_x));
      if (glyph % 7 == 0)
        continue;
      for (int gy = 0; gy < 11; ++gy) {
        for (int gx = 0; gx < 6; ++gx) {
          const bool vertical = ((glyph >> gx) & 1) && gx % 2 == 0;
          const bool horizontal = ((glyph >> (8 + gy % 4)) & 1) && (gy == 1 || gy == 5 || gy == 9);
          if (vertical || horizontal)
            Put(frame->PixelAt(cell_x + gx, line_y + gy), 25, 25, 35);
        }
      }
    }
  }
}

void DrawWindow(Frame* frame, const Rect& box, int index) {
  const Rect clipped = box.Intersect(Rect::FromSize(frame->size()));
  for (int y = clipped.y; y < clipped.bottom(); ++y) {
    for (int x = clipped.x; x < clipped.right(); ++x) {
      uint8_t* p = frame->PixelAt(x, y);
      if (y - box.y < 28) {
        Put(p, 40, 90, 190);  // Title bar.
      } else if (((x - box.x) / 24 + (y - box.y) / 24 + index / 30) % 5 == 0) {
        Put(p, 250, 250, 250);
      } else {
        const int shade = 120 + ((x - box.x) * 3 + (y - box.y)) % 100;
        Put(p, static_cast<uint8_t>(shade), static_cast<uint8_t>(255 - shade / 2), 140);
      }
    }
  }
}

// Builds the frames of the workload one by one, keeping the previous picture.
class Workload {
 public:
  Workload(Size size, bool scroll) : size_(size), scroll_(scroll), background_(size) {
    DrawDesktop(&background_, Rect::FromSize(size), 1);
  }

  std::unique_ptr<Frame> Next() { return scroll_ ? NextScroll() : NextDrag(); }

 private:
  static constexpr int kScrollStep = 6;

  std::unique_ptr<Frame> NextScroll() {
    const int index = index_++;
    if (index > 0) {
      // Move everything up and draw fresh text into the strip that appears.
      const size_t stride = static_cast<size_t>(background_.stride());
      std::memmove(background_.data(), background_.data() + kScrollStep * stride,
                   (size_.height - kScrollStep) * stride);
      Frame strip(Size{size_.width, 36});
      DrawDesktop(&strip, Rect::FromSize(strip.size()), static_cast<uint32_t>(index / 6));
      const int offset = (index % 6) * kScrollStep;
      for (int y = 0; y < kScrollStep; ++y) {
        std::memcpy(background_.PixelAt(0, size_.height - kScrollStep + y),
                    strip.PixelAt(0, offset + y), stride);
      }
    }
    auto frame = std::make_unique<Frame>(size_);
    std::memcpy(frame->data(), background_.data(),
                static_cast<size_t>(background_.stride()) * size_.height);
    frame->mutable_updated_region()->Add(Rect::FromSize(size_));
    frame->set_capture_time_us(1'000'000 + int64_t{index} * 33'333);
    return frame;
  }

  std::unique_ptr<Frame> NextDrag() {
    auto frame = std::make_unique<Frame>(size_);
    const int index = index_++;
    const int scroll_top = size_.height * 2 / 3;
    if (index > 0 && index % 20 == 0) {
      DrawDesktop(&background_, Rect{0, scroll_top, size_.width, size_.height - scroll_top},
                  static_cast<uint32_t>(index));
      frame->mutable_updated_region()->Add(
          Rect{0, scroll_top, size_.width, size_.height - scroll_top});
    }
    std::memcpy(frame->data(), background_.data(),
                static_cast<size_t>(background_.stride()) * size_.height);
    const Rect cursor{size_.width / 2, 40, 2, 16};
    if ((index / 15) % 2 == 0) {
      for (int y = cursor.y; y < cursor.bottom(); ++y) {
        for (int x = cursor.x; x < cursor.right(); ++x)
          Put(frame->PixelAt(x, y), 0, 0, 0);
      }
    }
    if (index % 15 == 0)
      frame->mutable_updated_region()->Add(cursor);
    const int span = std::max(1, size_.width - 720);
    const int travel = (index * 12) % (2 * span);
    const Rect box{travel < span ? travel : 2 * span - travel, size_.height / 6, 720, 480};
    DrawWindow(frame.get(), box, index);
    frame->mutable_updated_region()->Add(box);
    if (!last_box_.empty())
      frame->mutable_updated_region()->Add(last_box_);
    last_box_ = box;
    if (index == 0)
      frame->mutable_updated_region()->Add(Rect::FromSize(size_));
    frame->set_capture_time_us(1'000'000 + int64_t{index} * 33'333);
    frame->set_sequence(static_cast<uint64_t>(index));
    return frame;
  }

  Size size_;
  bool scroll_;
  Frame background_;
  Rect last_box_;
  int index_ = 0;
};

// CPU time of the whole process (all libvpx threads), in microseconds: steadier than wall
// time on a shared machine.
using bench::PsnrRgb;
using bench::Summarize;
using bench::Summary;

int64_t ProcessCpuUs() {
  return bench::CpuUs(CLOCK_PROCESS_CPUTIME_ID);
}

int Run(VideoCodec codec, const Options& options) {
  EncoderConfig config;
  config.codec = codec;
  config.target_bitrate_kbps = options.bitrate_kbps;
  config.max_fps = 30;
  config.threads = options.threads;
  auto encoder = VpxVideoEncoder::Create(config, options.tuning);
  if (!encoder.ok()) {
    std::fprintf(stderr, "encoder: %s\n", encoder.error().ToString().c_str());
    return 1;
  }
  auto decoder = CreateVideoDecoder(codec);
  if (!decoder.ok()) {
    std::fprintf(stderr, "decoder: %s\n", decoder.error().ToString().c_str());
    return 1;
  }
  Workload workload(options.size, options.scroll);
  std::vector<double> convert_ms, encode_ms, total_ms, cpu_ms, decode_ms, psnr_db;
  double delta_bytes = 0;
  int delta_frames = 0;
  size_t keyframe_bytes = 0;
  double keyframe_encode_ms = 0, keyframe_psnr = 0;
  I420Image decoded;
  std::vector<uint8_t> rgba;
  for (int i = 0; i < options.frames; ++i) {
    auto frame = workload.Next();
    EncodedFrame encoded;
    const int64_t cpu_start_us = ProcessCpuUs();
    const EncodeResult result = (*encoder)->Encode(*frame, false, &encoded);
    const double encode_cpu_ms = (ProcessCpuUs() - cpu_start_us) / 1000.0;
    if (result == EncodeResult::kError) {
      std::fprintf(stderr, "frame %d: encode failed\n", i);
      return 1;
    }
    const EncodeTimings timings = (*encoder)->last_timings();
    if (result == EncodeResult::kSkipped)
      continue;
    const int64_t decode_start_us = MonotonicNowUs();
    if ((*decoder)->Decode(encoded.data, &decoded) != DecodeResult::kOk) {
      std::fprintf(stderr, "frame %d: decode failed\n", i);
      return 1;
    }
    const double decode_frame_ms = (MonotonicNowUs() - decode_start_us) / 1000.0;
    ConvertI420ToRgba(decoded, &rgba);
    const double psnr = PsnrRgb(*frame, rgba);
    if (options.verbose) {
      std::printf(
          "  %s frame %3d %s %7zu bytes q %2d convert %6.2f ms encode %6.2f ms "
          "psnr %5.2f dB\n",
          std::string(ToString(codec)).c_str(), i, encoded.keyframe ? "key" : "   ",
          encoded.data.size(), (*encoder)->last_quantizer(), timings.convert_us / 1000.0,
          timings.encode_us / 1000.0, psnr);
    }
    if (i == 0) {
      keyframe_bytes = encoded.data.size();
      keyframe_encode_ms = encoded.encode_duration_us / 1000.0;
      keyframe_psnr = psnr;
      continue;
    }
    convert_ms.push_back(timings.convert_us / 1000.0);
    encode_ms.push_back(timings.encode_us / 1000.0);
    total_ms.push_back(encoded.encode_duration_us / 1000.0);
    cpu_ms.push_back(encode_cpu_ms);
    decode_ms.push_back(decode_frame_ms);
    psnr_db.push_back(psnr);
    delta_bytes += static_cast<double>(encoded.data.size());
    ++delta_frames;
  }
  const Summary convert = Summarize(convert_ms);
  const Summary encode = Summarize(encode_ms);
  const Summary total = Summarize(total_ms);
  const Summary cpu = Summarize(cpu_ms);
  const Summary decode = Summarize(decode_ms);
  const Summary psnr = Summarize(psnr_db);
  const double kbps = delta_frames ? delta_bytes * 8 * 30 / delta_frames / 1000 : 0;
  std::printf("%s %dx%d, %s workload, %d frames, target %d kbit/s, %d encoder threads\n",
              std::string(ToString(codec)).c_str(), options.size.width, options.size.height,
              options.scroll ? "scroll" : "drag", options.frames, options.bitrate_kbps,
              (*encoder)->threads());
  std::printf("  keyframe: %zu bytes, %.1f ms, PSNR %.2f dB\n", keyframe_bytes, keyframe_encode_ms,
              keyframe_psnr);
  std::printf("  delta frames (%d):\n", delta_frames);
  std::printf("    convert ms   median %6.2f  p95 %6.2f\n", convert.median, convert.p95);
  std::printf("    encode ms    median %6.2f  p95 %6.2f  (libvpx only)\n", encode.median,
              encode.p95);
  std::printf("    total ms     median %6.2f  p95 %6.2f  (Encode() wall time)\n", total.median,
              total.p95);
  std::printf("    cpu ms       median %6.2f  p95 %6.2f  (Encode() CPU time, all threads)\n",
              cpu.median, cpu.p95);
  std::printf("    decode ms    median %6.2f  p95 %6.2f\n", decode.median, decode.p95);
  std::printf("    bitrate      %.0f kbit/s at 30 fps\n", kbps);
  std::printf("    PSNR RGB     mean %.2f dB, median %.2f dB\n", psnr.mean, psnr.median);
  return 0;
}

bool ParseSize(const char* text, Size* size) {
  return std::sscanf(text, "%dx%d", &size->width, &size->height) == 2 && !size->empty();
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  using lifeline::VideoCodec;
  lifeline::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--codec" && has_value) {
      const std::string value = argv[++i];
      if (value == "all")
        continue;
      auto codec = lifeline::ParseVideoCodec(value);
      if (!codec.ok()) {
        std::fprintf(stderr, "%s\n", codec.error().ToString().c_str());
        return 2;
      }
      options.codecs = {*codec};
    } else if (arg == "--size" && has_value) {
      if (!lifeline::ParseSize(argv[++i], &options.size)) {
        std::fprintf(stderr, "--size wants WIDTHxHEIGHT\n");
        return 2;
      }
    } else if (arg == "--frames" && has_value) {
      options.frames = std::max(2, std::atoi(argv[++i]));
    } else if (arg == "--bitrate-kbps" && has_value) {
      options.bitrate_kbps = std::atoi(argv[++i]);
    } else if (arg == "--threads" && has_value) {
      options.threads = std::atoi(argv[++i]);
    } else if (arg == "--cpu-used" && has_value) {
      options.tuning.cpu_used = std::atoi(argv[++i]);
    } else if (arg == "--max-q" && has_value) {
      options.tuning.max_quantizer = std::atoi(argv[++i]);
    } else if (arg == "--buffer-ms" && has_value) {
      options.tuning.buffer_ms = std::atoi(argv[++i]);
    } else if (arg == "--workload" && has_value) {
      const std::string value = argv[++i];
      if (value != "drag" && value != "scroll") {
        std::fprintf(stderr, "--workload wants drag or scroll\n");
        return 2;
      }
      options.scroll = value == "scroll";
    } else if (arg == "--verbose") {
      options.verbose = true;
    } else {
      std::fprintf(stderr,
                   "usage: lifeline-codec-bench [--codec vp8|vp9|all] [--size WxH] "
                   "[--frames N] [--bitrate-kbps N] [--threads N] [--cpu-used N] "
                   "[--max-q N] [--buffer-ms N] [--workload drag|scroll] [--verbose]\n");
      return 2;
    }
  }
  for (VideoCodec codec : options.codecs) {
    if (int rc = lifeline::Run(codec, options); rc != 0)
      return rc;
  }
  return 0;
}
