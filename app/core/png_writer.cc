#include "app/core/png_writer.h"

#include <png.h>

#include <cstring>
#include <vector>

namespace lifeline {

Status WriteI420AsPng(const I420Image& image, const std::string& path) {
  if (image.size.empty())
    return Status(ErrorCode::kFileIo, "no picture to write to " + path);
  std::vector<uint8_t> rgba;
  ConvertI420ToRgba(image, &rgba);
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.size.width);
  png.height = static_cast<png_uint_32>(image.size.height);
  png.format = PNG_FORMAT_RGBA;
  if (!png_image_write_to_file(&png, path.c_str(), 0, rgba.data(), 0, nullptr)) {
    return Status(ErrorCode::kFileIo, "cannot write PNG " + path + ": " + png.message);
  }
  return Status::Ok();
}

}  // namespace lifeline
