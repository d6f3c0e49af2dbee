// Writes decoded pictures as PNG files (the viewer's --snapshot).
#pragma once

#include <string>

#include "base/status.h"
#include "codec/video_decoder.h"

namespace lifeline {

// Converts `image` to RGB and writes it to `path`. Error kFileIo naming the path.
Status WriteI420AsPng(const I420Image& image, const std::string& path);

}  // namespace lifeline
