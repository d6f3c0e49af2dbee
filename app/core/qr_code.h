// QR codes for TOTP enrolment (otpauth:// URIs): encoding with libqrencode, drawing in a
// terminal with Unicode half blocks, and writing a PNG. All functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lifeline {

// A QR symbol without its quiet zone: size × size modules, row-major, 1 = dark.
struct QrMatrix {
  int version = 0;  // 1..40; size = 17 + 4 · version.
  int size = 0;
  std::vector<uint8_t> modules;

  // (x, y) inside [0, size); outside counts as light (the quiet zone).
  bool dark(int x, int y) const {
    return x >= 0 && y >= 0 && x < size && y < size &&
           modules[static_cast<size_t>(y) * static_cast<size_t>(size) + static_cast<size_t>(x)] !=
               0;
  }
};

// Encodes `text` (UTF-8 bytes, mixed modes chosen by libqrencode, case-sensitive) at error
// correction level M in the smallest version that fits. Errors: kInvalidArgument (empty,
// contains a NUL byte, or too long for version 40-M), kInternal (libqrencode failed).
Expected<QrMatrix> EncodeQr(std::string_view text);

// How the symbol is drawn in a terminal.
enum class QrTerminalStyle {
  // Dark modules are drawn with ink ("█▀▄"), light modules and the quiet zone are blanks.
  // The true symbol (dark on light) when the terminal shows dark text on a light
  // background, and on paper; the default, since not every scanner reads inverted codes.
  kInkIsDark,
  // Light modules and the quiet zone are drawn with ink, dark modules are blanks: the true
  // symbol on terminals with light text on a dark background.
  kInkIsLight,
};

// Two module rows per text line with "▀" (top dark), "▄" (bottom dark), "█" (both),
// " " (neither) for kInkIsDark, the complement for kInkIsLight. A quiet zone of
// `quiet_zone_modules` (clamped to 2..4; the standard asks for 4, scanners cope with 2) on
// every side. Returns ceil((size + 2·quiet) / 2) lines, each ending with '\n' and holding
// size + 2·quiet characters. An empty matrix gives "".
std::string RenderQrForTerminal(const QrMatrix& matrix,
                                QrTerminalStyle style = QrTerminalStyle::kInkIsDark,
                                int quiet_zone_modules = 2);

// Writes the symbol as an 8-bit greyscale PNG (black 0, white 255) with a 4-module quiet
// zone, `module_px` pixels per module (1..64). Errors: kInvalidArgument (empty matrix,
// module_px out of range), kFileIo naming the path.
Status WriteQrPng(const QrMatrix& matrix, const std::string& path, int module_px = 8);

}  // namespace lifeline
