// Small POSIX and text helpers shared by net/*.cc (internal to the net module).
#pragma once

#include <string.h>

#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace lifeline::net_internal {

// strerror() text for `error_number`, thread-safe.
inline std::string ErrnoText(int error_number) {
  char buffer[256];
  // GNU strerror_r returns a pointer to the text (maybe not `buffer`).
  return std::string(strerror_r(error_number, buffer, sizeof(buffer)));
}

// `text` for an error message: quoted by the caller, non-printable bytes, quotes and
// backslashes escaped as \xNN, capped at 200 bytes.
inline std::string Printable(std::string_view text) {
  constexpr size_t kMaxShownBytes = 200;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kMaxShownBytes; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > kMaxShownBytes)
    out += "...";
  return out;
}

// True when `text` has a byte below 0x20 or 0x7f (CR/LF would break a header line).
inline bool HasControlCharacter(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f)
      return true;
  }
  return false;
}

// Value of a hex digit, or -1.
inline int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text`; with `plus_is_space` ('+' in query values) '+' becomes ' '.
inline std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (text.size() - i < 3)
        return std::nullopt;
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0)
        return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace lifeline::net_internal
