// RAII owners for libavcodec handles and error text, shared by the H.264 encoder and
// decoder. Internal to codec/: nothing outside this folder includes FFmpeg headers.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
}

#include "base/log.h"

namespace lifeline::internal {

struct AvCodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
using ScopedAvCodecContext = std::unique_ptr<AVCodecContext, AvCodecContextDeleter>;

struct AvFrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
using ScopedAvFrame = std::unique_ptr<AVFrame, AvFrameDeleter>;

struct AvPacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
using ScopedAvPacket = std::unique_ptr<AVPacket, AvPacketDeleter>;

// "what: <FFmpeg error string>", for Error messages and logs.
inline std::string AvErrorText(std::string_view what, int err) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buffer, sizeof(buffer));
  return std::string(what) + ": " + buffer;
}

// Routes libavcodec's messages to our log at debug level (it prints to stderr by default,
// including expected ones such as "Cannot load libcuda.so.1" when probing NVENC). Once per
// process; the callback is process-wide, like every av_log_set_callback user.
inline void RouteAvLogOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_callback([](void*, int level, const char* format, va_list args) {
      if (level > AV_LOG_WARNING)
        return;
      char line[512];
      std::vsnprintf(line, sizeof(line), format, args);
      std::string text(line);
      while (!text.empty() && text.back() == '\n')
        text.pop_back();
      log::Debug("libavcodec: {}", text);
    });
  });
}

}  // namespace lifeline::internal
