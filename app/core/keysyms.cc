#include "app/core/keysyms.h"

#include <charconv>

#include "net/proto/lifeline.pb.h"

namespace lifeline::keysym {
namespace {

struct Named {
  std::string_view name;
  uint32_t keysym;
};

constexpr Named kNames[] = {
    {"BackSpace", kBackSpace},
    {"Tab", kTab},
    {"Return", kReturn},
    {"Escape", kEscape},
    {"Delete", kDelete},
    {"Home", kHome},
    {"Left", kLeft},
    {"Up", kUp},
    {"Right", kRight},
    {"Down", kDown},
    {"Page_Up", kPageUp},
    {"Page_Down", kPageDown},
    {"End", kEnd},
    {"Insert", kInsert},
    {"Menu", kMenu},
    {"Shift_L", kShiftL},
    {"Shift_R", kShiftR},
    {"Control_L", kControlL},
    {"Control_R", kControlR},
    {"Caps_Lock", kCapsLock},
    {"Meta_L", kMetaL},
    {"Meta_R", kMetaR},
    {"Alt_L", kAltL},
    {"Alt_R", kAltR},
    {"Super_L", kSuperL},
    {"Super_R", kSuperR},
    {"ISO_Level3_Shift", kIsoLevel3Shift},
    {"Print", kPrint},
    {"space", 0x20},
};

}  // namespace

uint32_t ModifierBitOf(uint32_t keysym) {
  switch (keysym) {
    case kShiftL:
    case kShiftR:
      return wire::KEY_MODIFIER_SHIFT;
    case kControlL:
    case kControlR:
      return wire::KEY_MODIFIER_CONTROL;
    case kAltL:
    case kAltR:
    case kMetaL:
    case kMetaR:
      return wire::KEY_MODIFIER_ALT;
    case kSuperL:
    case kSuperR:
      return wire::KEY_MODIFIER_SUPER;
    case kIsoLevel3Shift:
      return wire::KEY_MODIFIER_ALTGR;
    default:
      return 0;
  }
}

std::optional<uint32_t> KeysymFromName(std::string_view name) {
  if (name.empty())
    return std::nullopt;
  for (const Named& entry : kNames) {
    if (entry.name == name)
      return entry.keysym;
  }
  if (name.size() >= 2 && name.size() <= 3 && name[0] == 'F') {
    int n = 0;
    auto [end, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), n);
    if (ec == std::errc() && end == name.data() + name.size() && n >= 1 && n <= 12)
      return kF1 + static_cast<uint32_t>(n - 1);
  }
  if (name.size() > 2 && name[0] == '0' && (name[1] == 'x' || name[1] == 'X')) {
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(name.data() + 2, name.data() + name.size(), value, 16);
    if (ec == std::errc() && end == name.data() + name.size() && value != 0 && value <= 0x0110ffff)
      return value;
    return std::nullopt;
  }
  if (name.size() == 1 && name[0] > 0x20 && name[0] < 0x7f)
    return static_cast<uint32_t>(name[0]);
  return std::nullopt;
}

}  // namespace lifeline::keysym
