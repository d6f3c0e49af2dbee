#include "app/core/qr_code.h"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/image_compare.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

const std::string kUri =
    "otpauth://totp/Lifeline:123456789?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Lifeline&"
    "algorithm=SHA1&digits=6&period=30";

// The 7×7 finder pattern with its top-left corner at (x0, y0): dark border, light ring,
// dark 3×3 centre; and the light separator row/column around it.
void CheckFinder(const QrMatrix& m, int x0, int y0) {
  for (int j = 0; j < 7; ++j) {
    for (int i = 0; i < 7; ++i) {
      const int ring = std::max(std::abs(i - 3), std::abs(j - 3));
      INFO("finder at " << x0 << "," << y0 << " module " << i << "," << j);
      CHECK(m.dark(x0 + i, y0 + j) == (ring != 2));
    }
  }
}

// Counts code points in UTF-8 text.
size_t CodePoints(const std::string& text) {
  size_t count = 0;
  for (char c : text)
    count += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return count;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST_CASE("An otpauth URI encodes as a QR symbol of the expected version", "[qr]") {
  auto qr = EncodeQr(kUri);
  REQUIRE(qr.ok());
  // 123 bytes at level M: byte mode alone would need version 8 (7-M holds 122 bytes);
  // libqrencode packs the digit and upper-case runs in numeric/alphanumeric segments and
  // fits version 7 (45 × 45 modules).
  CHECK(kUri.size() == 123);
  CHECK(qr->version == 7);
  CHECK(qr->size == 17 + 4 * qr->version);
  REQUIRE(qr->modules.size() == static_cast<size_t>(qr->size * qr->size));
  CheckFinder(*qr, 0, 0);
  CheckFinder(*qr, qr->size - 7, 0);
  CheckFinder(*qr, 0, qr->size - 7);
  // No finder at the bottom right (the alignment pattern lives there instead).
  bool all_finder = true;
  for (int j = 0; j < 7; ++j)
    for (int i = 0; i < 7; ++i)
      all_finder &= qr->dark(qr->size - 7 + i, qr->size - 7 + j) ==
                    (std::max(std::abs(i - 3), std::abs(j - 3)) != 2);
  CHECK_FALSE(all_finder);
  // Timing pattern on row 6 between the finders alternates dark/light.
  for (int x = 8; x < qr->size - 8; ++x)
    CHECK(qr->dark(x, 6) == (x % 2 == 0));

  // A longer text needs a bigger symbol; a different text a different symbol.
  auto longer = EncodeQr(kUri + "&image=https%3A%2F%2Fexample.com%2Flogo.png");
  REQUIRE(longer.ok());
  CHECK(longer->version > qr->version);
  auto other = EncodeQr(
      "otpauth://totp/Lifeline:123456780?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"
      "issuer=Lifeline&algorithm=SHA1&digits=6&period=30");
  REQUIRE(other.ok());
  CHECK(other->modules != qr->modules);
}

TEST_CASE("EncodeQr refuses empty, NUL and oversized text", "[qr]") {
  CHECK(EncodeQr("").status().code() == ErrorCode::kInvalidArgument);
  CHECK(EncodeQr(std::string("a\0b", 3)).status().code() == ErrorCode::kInvalidArgument);
  // Version 40-M holds 2331 bytes.
  CHECK(EncodeQr(std::string(2331, 'x')).ok());
  CHECK(EncodeQr(std::string(4000, 'x')).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("Terminal rendering packs two module rows per line", "[qr]") {
  auto qr = EncodeQr(kUri);
  REQUIRE(qr.ok());
  const int total = qr->size + 4;  // Quiet zone of 2 on each side.
  const std::string text = RenderQrForTerminal(*qr);
  const std::vector<std::string> lines = Lines(text);
  CHECK(lines.size() == static_cast<size_t>((total + 1) / 2));
  CHECK(lines.size() == 25);  // 45 modules + 2 × 2 quiet = 49 rows.
  for (const std::string& line : lines)
    CHECK(CodePoints(line) == static_cast<size_t>(total));
  CHECK(text.back() == '\n');

  // Line 0: quiet zone only (blank). Line 1: module rows 0 and 1; the finder's left edge
  // is dark in both (full block); module (1,0) dark over (1,1) light (upper half).
  CHECK(lines[0] == std::string(static_cast<size_t>(total), ' '));
  CHECK(lines[1].substr(0, 2) == "  ");
  CHECK(lines[1].substr(2, 3) == "\u2588");
  CHECK(lines[1].substr(5, 3) == "\u2580");
  // Every character against the matrix: line k holds module rows 2k - 2 and 2k - 1.
  for (size_t k = 0; k < lines.size(); ++k) {
    std::string expected;
    for (int x = -2; x < qr->size + 2; ++x) {
      const int top_row = static_cast<int>(2 * k) - 2;
      const bool top = qr->dark(x, top_row);
      const bool bottom = qr->dark(x, top_row + 1);  // Past the end counts as light.
      expected += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    INFO("line " << k);
    CHECK(lines[k] == expected);
  }
  // All four glyphs occur.
  for (const char* glyph : {"\u2588", "\u2580", "\u2584"})
    CHECK(text.find(glyph) != std::string::npos);

  // Inverted: quiet zone is ink, dark modules are blanks.
  const std::vector<std::string> inverted =
      Lines(RenderQrForTerminal(*qr, QrTerminalStyle::kInkIsLight));
  REQUIRE(inverted.size() == lines.size());
  std::string full_line;
  for (int i = 0; i < total; ++i)
    full_line += "\u2588";
  CHECK(inverted[0] == full_line);
  CHECK(inverted[1].substr(6, 1) == " ");       // Module (0, 0/1): dark, dark.
  CHECK(inverted[1].substr(7, 3) == "\u2584");  // Module (1, 0/1): dark, light.

  // Quiet zone clamps to 2..4.
  CHECK(Lines(RenderQrForTerminal(*qr, QrTerminalStyle::kInkIsDark, 4)).size() ==
        static_cast<size_t>((qr->size + 8 + 1) / 2));
  CHECK(RenderQrForTerminal(*qr, QrTerminalStyle::kInkIsDark, 0) == text);
  CHECK(RenderQrForTerminal(QrMatrix{}).empty());
}

TEST_CASE("The QR PNG matches the matrix and has a light quiet zone", "[qr]") {
  auto qr = EncodeQr(kUri);
  REQUIRE(qr.ok());
  testing::TempDir dir;
  const std::string path = dir.File("totp.png");
  REQUIRE(WriteQrPng(*qr, path).ok());

  testing::RgbaImage image;
  REQUIRE(testing::ReadPng(path, &image));
  constexpr int kPx = 8;
  const int side = (qr->size + 8) * kPx;
  REQUIRE(image.width == side);
  REQUIRE(image.height == side);
  auto grey = [&](int x, int y) {
    const size_t i =
        (static_cast<size_t>(y) * static_cast<size_t>(side) + static_cast<size_t>(x)) * 4;
    CHECK(image.pixels[i] == image.pixels[i + 1]);
    CHECK(image.pixels[i] == image.pixels[i + 2]);
    CHECK(image.pixels[i + 3] == 255);
    return image.pixels[i];
  };
  int dark = 0;
  for (int my = -4; my < qr->size + 4; ++my) {
    for (int mx = -4; mx < qr->size + 4; ++mx) {
      // Centre and a corner of each module.
      const int px = (mx + 4) * kPx;
      const int py = (my + 4) * kPx;
      const uint8_t expected = qr->dark(mx, my) ? 0 : 255;
      INFO("module " << mx << "," << my);
      CHECK(grey(px + kPx / 2, py + kPx / 2) == expected);
      CHECK(grey(px, py) == expected);
      dark += expected == 0;
    }
  }
  CHECK(dark > 0);
  // The 4-module quiet zone is white all round.
  for (int i = 0; i < side; ++i) {
    for (int q = 0; q < 4 * kPx; ++q) {
      CHECK(grey(i, q) == 255);
      CHECK(grey(q, i) == 255);
      CHECK(grey(i, side - 1 - q) == 255);
      CHECK(grey(side - 1 - q, i) == 255);
    }
  }

  CHECK(WriteQrPng(*qr, path, 0).code() == ErrorCode::kInvalidArgument);
  CHECK(WriteQrPng(QrMatrix{}, path).code() == ErrorCode::kInvalidArgument);
  CHECK(WriteQrPng(*qr, dir.File("missing/dir/totp.png")).code() == ErrorCode::kFileIo);
}

}  // namespace
}  // namespace lifeline
