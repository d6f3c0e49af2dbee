// lifeline-capture-probe: a tool for support staff. Describes the X display, times the
// capturer and writes one captured frame to a PNG file.
//
//   lifeline-capture-probe [--display :N] [--source x11|synthetic] [--out FILE.png]
//
// Exit status: 0 on success, 1 when capture failed (no display, unsupported screen, PNG
// not written), 2 on a usage error.
#include <png.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "base/status.h"
#include "base/time.h"
#include "capture/frame.h"
#include "capture/screen_capturer.h"
#include "capture/x11/screen_capturer_x11.h"

namespace lifeline {
namespace {

constexpr int kTimedFrames = 10;
constexpr int kMaxAttemptsPerFrame = 50;

std::string UsageText() {
  return fmt::format(
      "usage: lifeline-capture-probe [--display :N] [--source x11|synthetic] [--out FILE.png]\n"
      "\n"
      "Describes the X display, times {} captures and writes the last frame as PNG.\n"
      "  --display :N     X display to read (default: $DISPLAY)\n"
      "  --source NAME    x11 (default) or synthetic (generated frames, no display needed)\n"
      "  --out FILE.png   where to write the frame (default: no file)\n",
      kTimedFrames);
}

struct Arguments {
  CaptureOptions options;
  std::string out_path;
};

// Returns false (after printing why) on a usage error; sets `*help` for --help.
bool ParseArguments(int argc, char** argv, Arguments* arguments, bool* help) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return true;
    }
    if (arg != "--display" && arg != "--out" && arg != "--source") {
      std::fprintf(stderr, "error: unknown argument '%s'\n", argv[i]);
      return false;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "error: %s needs a value\n", argv[i]);
      return false;
    }
    const std::string value = argv[++i];
    if (arg == "--display") {
      arguments->options.x11_display = value;
    } else if (arg == "--out") {
      arguments->out_path = value;
    } else {
      Expected<CaptureSource> source = ParseCaptureSource(value);
      if (!source.ok()) {
        std::fprintf(stderr, "error: %s\n", source.error().ToString().c_str());
        return false;
      }
      arguments->options.source = *source;
    }
  }
  return true;
}

void PrintDisplayInfo(const std::string& display) {
  Expected<X11DisplayInfo> info = QueryX11DisplayInfo(display);
  if (!info.ok())
    return;  // CreateScreenCapturer reports the same error just after.
  std::printf("display:        %s\n", info->display_name.c_str());
  std::printf("server:         %s, release %d, %d screen(s)\n", info->vendor.c_str(),
              info->vendor_release, info->screen_count);
  std::printf(
      "pixel format:   depth %d, %d bits per pixel, %s, masks r=%06llx g=%06llx "
      "b=%06llx (%s)\n",
      info->depth, info->bits_per_pixel, info->lsb_first ? "LSBFirst" : "MSBFirst",
      static_cast<unsigned long long>(info->red_mask),
      static_cast<unsigned long long>(info->green_mask),
      static_cast<unsigned long long>(info->blue_mask),
      info->pixel_format_supported ? "supported" : "NOT supported");
  for (size_t i = 0; i < info->monitors.size(); ++i) {
    const X11Monitor& m = info->monitors[i];
    std::printf("monitor %zu:      %s %dx%d+%d+%d%s\n", i, m.name.c_str(), m.bounds.width,
                m.bounds.height, m.bounds.x, m.bounds.y, m.primary ? " (primary)" : "");
  }
  if (info->has_mit_shm) {
    std::printf("MIT-SHM:        %d.%d\n", info->mit_shm_major, info->mit_shm_minor);
  } else {
    std::printf("MIT-SHM:        missing (capture falls back to XGetImage)\n");
  }
}

bool WritePng(const Frame& frame, const std::string& path, std::string* error) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(frame.width());
  image.height = static_cast<png_uint_32>(frame.height());
  image.format = PNG_FORMAT_BGRA;
  if (!png_image_write_to_file(&image, path.c_str(), 0, frame.data(), frame.stride(), nullptr)) {
    *error = image.message;
    png_image_free(&image);
    return false;
  }
  return true;
}

int Run(int argc, char** argv) {
  Arguments arguments;
  bool help = false;
  if (!ParseArguments(argc, argv, &arguments, &help)) {
    std::fputs(UsageText().c_str(), stderr);
    return 2;
  }
  if (help) {
    std::fputs(UsageText().c_str(), stdout);
    return 0;
  }

  if (arguments.options.source == CaptureSource::kX11) {
    PrintDisplayInfo(arguments.options.x11_display);
  }
  Expected<std::unique_ptr<ScreenCapturer>> created = CreateScreenCapturer(arguments.options);
  if (!created.ok()) {
    std::fprintf(stderr, "error: %s\n", created.error().ToString().c_str());
    return 1;
  }
  ScreenCapturer& capturer = **created;
  std::printf("backend:        %s\n", std::string(capturer.name()).c_str());
  std::printf("screen size:    %dx%d\n", capturer.screen_size().width,
              capturer.screen_size().height);
  std::printf("frame format:   BGRA, 8 bits per channel\n");

  // The first frame allocates and compares nothing; it is not timed.
  std::unique_ptr<Frame> frame;
  int64_t total_us = 0;
  int64_t reported_us = 0;
  int64_t updated_area = 0;
  for (int i = 0; i <= kTimedFrames; ++i) {
    CaptureResult result = CaptureResult::kTemporaryError;
    int64_t start_us = 0;
    for (int attempt = 0; attempt < kMaxAttemptsPerFrame; ++attempt) {
      start_us = MonotonicNowUs();
      result = capturer.CaptureFrame(&frame);
      if (result != CaptureResult::kTemporaryError)
        break;
    }
    if (result != CaptureResult::kSuccess) {
      std::fprintf(stderr, "error: capture failed (%s error); see the log above\n",
                   result == CaptureResult::kPermanentError ? "permanent" : "temporary");
      return 1;
    }
    if (i > 0) {
      total_us += MonotonicNowUs() - start_us;
      reported_us += frame->capture_duration_us();
      updated_area += frame->updated_region().AreaUpperBound();
    }
  }
  const int64_t screen_area = int64_t{frame->width()} * frame->height();
  std::printf("capture time:   %.3f ms per frame (average of %d; %.3f ms reading pixels)\n",
              static_cast<double>(total_us) / kTimedFrames / 1000.0, kTimedFrames,
              static_cast<double>(reported_us) / kTimedFrames / 1000.0);
  std::printf("updated area:   %.1f%% of the screen per frame on average\n",
              screen_area > 0 ? 100.0 * static_cast<double>(updated_area) / kTimedFrames /
                                    static_cast<double>(screen_area)
                              : 0.0);

  if (!arguments.out_path.empty()) {
    std::string error;
    if (!WritePng(*frame, arguments.out_path, &error)) {
      std::fprintf(stderr, "error: cannot write '%s': %s\n", arguments.out_path.c_str(),
                   error.c_str());
      return 1;
    }
    std::printf("wrote:          %s (frame %llu)\n", arguments.out_path.c_str(),
                static_cast<unsigned long long>(frame->sequence()));
  }
  return 0;
}

}  // namespace
}  // namespace lifeline

int main(int argc, char** argv) {
  return lifeline::Run(argc, argv);
}
