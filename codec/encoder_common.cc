#include "codec/encoder_common.h"

#include <algorithm>
#include <string>

#include <libyuv/convert.h>

#include "base/log.h"

namespace lifeline::internal {

Status ValidateEncoderConfig(const EncoderConfig& config) {
  if (config.target_bitrate_kbps <= 0) {
    return Status(ErrorCode::kEncoderInitFailed, "video bitrate must be positive, got " +
                                                     std::to_string(config.target_bitrate_kbps) +
                                                     " kbit/s");
  }
  if (config.max_fps <= 0 || config.max_fps > 1000) {
    return Status(ErrorCode::kEncoderInitFailed,
                  "video frame rate must be 1..1000, got " + std::to_string(config.max_fps));
  }
  if (config.threads < 0 || config.threads > kMaxEncoderThreads) {
    return Status(ErrorCode::kEncoderInitFailed, "encoder threads must be 0.." +
                                                     std::to_string(kMaxEncoderThreads) + ", got " +
                                                     std::to_string(config.threads));
  }
  return Status::Ok();
}

bool CheckEncodableFrame(const Frame& frame) {
  const Size size = frame.size();
  if (size.empty() || size.width > kMaxVideoDimension || size.height > kMaxVideoDimension ||
      !frame.data()) {
    log::Error("encoder: cannot encode a {}x{} frame (limit {}x{})", size.width, size.height,
               kMaxVideoDimension, kMaxVideoDimension);
    return false;
  }
  return true;
}

int64_t ConvertRectToI420(const Frame& frame, const Rect& rect, const I420Planes& planes) {
  const int x0 = std::max(0, rect.x & ~1);
  const int y0 = std::max(0, rect.y & ~1);
  const int x1 = std::min(frame.width(), (rect.right() + 1) & ~1);
  const int y1 = std::min(frame.height(), (rect.bottom() + 1) & ~1);
  if (x1 <= x0 || y1 <= y0)
    return 0;
  libyuv::ARGBToI420(frame.PixelAt(x0, y0), frame.stride(), planes.y + y0 * planes.stride_y + x0,
                     planes.stride_y, planes.u + (y0 / 2) * planes.stride_u + x0 / 2,
                     planes.stride_u, planes.v + (y0 / 2) * planes.stride_v + x0 / 2,
                     planes.stride_v, x1 - x0, y1 - y0);
  return int64_t{x1 - x0} * (y1 - y0);
}

}  // namespace lifeline::internal
