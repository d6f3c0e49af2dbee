#include "capture/input_injector.h"

#include "capture/screen_capturer.h"

namespace lifeline {

Expected<std::unique_ptr<InputInjector>> CreateInputInjector(const CaptureOptions& options) {
  switch (options.source) {
    case CaptureSource::kX11:
      return CreateX11InputInjector(options.x11_display);
    case CaptureSource::kSynthetic:
      break;
  }
  return Error{ErrorCode::kInputUnavailable,
               "the synthetic capture source has no desktop to send input to"};
}

}  // namespace lifeline
