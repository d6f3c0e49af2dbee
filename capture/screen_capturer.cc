#include "capture/screen_capturer.h"

#include <fmt/format.h>

#include "capture/synthetic_capturer.h"
#include "capture/x11/screen_capturer_x11.h"

namespace lifeline {

Expected<std::unique_ptr<ScreenCapturer>> CreateScreenCapturer(const CaptureOptions& options) {
  switch (options.source) {
    case CaptureSource::kX11: {
      X11CaptureOptions x11_options;
      x11_options.display = options.x11_display;
      return CreateX11ScreenCapturer(x11_options);
    }
    case CaptureSource::kSynthetic: {
      const Size size = options.synthetic_size;
      if (size.empty() || size.width > SyntheticCapturer::kMaxSidePx ||
          size.height > SyntheticCapturer::kMaxSidePx) {
        return Error{
            ErrorCode::kInvalidArgument,
            fmt::format("synthetic capture size {}x{} is outside 1x1 to {}x{}", size.width,
                        size.height, SyntheticCapturer::kMaxSidePx, SyntheticCapturer::kMaxSidePx)};
      }
      return std::unique_ptr<ScreenCapturer>(std::make_unique<SyntheticCapturer>(size));
    }
  }
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("unknown capture source {}", static_cast<int>(options.source))};
}

Expected<CaptureSource> ParseCaptureSource(std::string_view text) {
  if (text == "x11")
    return CaptureSource::kX11;
  if (text == "synthetic")
    return CaptureSource::kSynthetic;
  return Error{
      ErrorCode::kSettingsInvalid,
      fmt::format("unknown capture source '{}' (expected \"x11\" or \"synthetic\")", text)};
}

Status CheckDisplayAvailable(const std::string& display) {
  return CheckX11DisplayAvailable(display);
}

}  // namespace lifeline
