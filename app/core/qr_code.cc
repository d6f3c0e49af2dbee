#include "app/core/qr_code.h"

#include <png.h>
#include <qrencode.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace lifeline {
namespace {

struct QrcodeDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};
using QrcodePtr = std::unique_ptr<QRcode, QrcodeDeleter>;

constexpr int kPngQuietZoneModules = 4;
constexpr int kMaxModulePx = 64;

}  // namespace

Expected<QrMatrix> EncodeQr(std::string_view text) {
  if (text.empty())
    return Error{ErrorCode::kInvalidArgument, "nothing to encode in a QR code"};
  if (text.find('\0') != std::string_view::npos)
    return Error{ErrorCode::kInvalidArgument, "QR text contains a NUL byte"};
  const std::string terminated(text);
  errno = 0;
  QrcodePtr code(QRcode_encodeString(terminated.c_str(), /*version=*/0, QR_ECLEVEL_M, QR_MODE_8,
                                     /*casesensitive=*/1));
  if (!code) {
    if (errno == ERANGE)
      return Error{ErrorCode::kInvalidArgument, "text too long for a QR code"};
    return Error{ErrorCode::kInternal, "libqrencode failed to encode the QR code"};
  }
  QrMatrix matrix;
  matrix.version = code->version;
  matrix.size = code->width;
  const size_t count = static_cast<size_t>(code->width) * static_cast<size_t>(code->width);
  matrix.modules.resize(count);
  // Bit 0 of each byte: 1 = dark module; the other bits describe the module's role.
  for (size_t i = 0; i < count; ++i)
    matrix.modules[i] = code->data[i] & 1;
  return matrix;
}

std::string RenderQrForTerminal(const QrMatrix& matrix,
                                QrTerminalStyle style,
                                int quiet_zone_modules) {
  if (matrix.size <= 0)
    return {};
  const int quiet = std::clamp(quiet_zone_modules, 2, 4);
  const bool ink_is_dark = style == QrTerminalStyle::kInkIsDark;
  const int total = matrix.size + 2 * quiet;
  std::string out;
  out.reserve(static_cast<size_t>((total + 1) / 2) * static_cast<size_t>(total * 3 + 1));
  for (int row = 0; row < total; row += 2) {
    for (int column = 0; column < total; ++column) {
      const int x = column - quiet;
      const int y = row - quiet;
      // A row below the last one (odd total) counts as quiet zone.
      const bool top = matrix.dark(x, y) == ink_is_dark;
      const bool bottom = (row + 1 < total ? matrix.dark(x, y + 1) : false) == ink_is_dark;
      if (top && bottom)
        out += "\u2588";  // █
      else if (top)
        out += "\u2580";  // ▀
      else if (bottom)
        out += "\u2584";  // ▄
      else
        out += ' ';
    }
    out += '\n';
  }
  return out;
}

Status WriteQrPng(const QrMatrix& matrix, const std::string& path, int module_px) {
  if (matrix.size <= 0 ||
      matrix.modules.size() != static_cast<size_t>(matrix.size) * static_cast<size_t>(matrix.size))
    return Status(ErrorCode::kInvalidArgument, "empty QR matrix");
  if (module_px < 1 || module_px > kMaxModulePx)
    return Status(ErrorCode::kInvalidArgument, "QR module size must be 1 to 64 pixels");
  const int modules = matrix.size + 2 * kPngQuietZoneModules;
  const int side = modules * module_px;  // At most (177 + 8) · 64 pixels.
  std::vector<uint8_t> pixels(static_cast<size_t>(side) * static_cast<size_t>(side), 255);
  for (int py = 0; py < side; ++py) {
    const int y = py / module_px - kPngQuietZoneModules;
    for (int px = 0; px < side; ++px) {
      const int x = px / module_px - kPngQuietZoneModules;
      if (matrix.dark(x, y))
        pixels[static_cast<size_t>(py) * static_cast<size_t>(side) + static_cast<size_t>(px)] = 0;
    }
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  const int ok = png_image_write_to_file(&image, path.c_str(), /*convert_to_8bit=*/0, pixels.data(),
                                         /*row_stride=*/side, nullptr);
  std::string message = image.message;
  png_image_free(&image);
  if (!ok)
    return Status(ErrorCode::kFileIo, "could not write QR code PNG " + path + ": " + message);
  return Status::Ok();
}

}  // namespace lifeline
