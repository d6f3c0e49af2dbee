// The X11 keysym values the wire uses for keys (KeyEvent.keysym), without X11 headers.
// Printable Latin-1 characters are their own keysym ('a' = 0x61); other Unicode
// characters are 0x01000000 + code point.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lifeline::keysym {

inline constexpr uint32_t kBackSpace = 0xff08;
inline constexpr uint32_t kTab = 0xff09;
inline constexpr uint32_t kReturn = 0xff0d;
inline constexpr uint32_t kEscape = 0xff1b;
inline constexpr uint32_t kDelete = 0xffff;
inline constexpr uint32_t kHome = 0xff50;
inline constexpr uint32_t kLeft = 0xff51;
inline constexpr uint32_t kUp = 0xff52;
inline constexpr uint32_t kRight = 0xff53;
inline constexpr uint32_t kDown = 0xff54;
inline constexpr uint32_t kPageUp = 0xff55;
inline constexpr uint32_t kPageDown = 0xff56;
inline constexpr uint32_t kEnd = 0xff57;
inline constexpr uint32_t kInsert = 0xff63;
inline constexpr uint32_t kMenu = 0xff67;
inline constexpr uint32_t kF1 = 0xffbe;  // F2..F12 follow: kF1 + n - 1.
inline constexpr uint32_t kShiftL = 0xffe1;
inline constexpr uint32_t kShiftR = 0xffe2;
inline constexpr uint32_t kControlL = 0xffe3;
inline constexpr uint32_t kControlR = 0xffe4;
inline constexpr uint32_t kCapsLock = 0xffe5;
inline constexpr uint32_t kMetaL = 0xffe7;
inline constexpr uint32_t kMetaR = 0xffe8;
inline constexpr uint32_t kAltL = 0xffe9;
inline constexpr uint32_t kAltR = 0xffea;
inline constexpr uint32_t kSuperL = 0xffeb;
inline constexpr uint32_t kSuperR = 0xffec;
inline constexpr uint32_t kIsoLevel3Shift = 0xfe03;  // AltGr.
inline constexpr uint32_t kPrint = 0xff61;

// The KeyModifier bit (wire) a modifier keysym belongs to; 0 for other keys.
uint32_t ModifierBitOf(uint32_t keysym);

// "Return", "Control_L", "F5", "a", "0xff0d" -> keysym. Names are X11's for the keys
// above; one printable ASCII character is its own keysym. nullopt when unknown.
std::optional<uint32_t> KeysymFromName(std::string_view name);

}  // namespace lifeline::keysym
