// The XTest injector against a real Xvfb: the pointer position is read back with
// XQueryPointer, keys and buttons are received by a test window (X11InputProbe).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "capture/input_injector.h"
#include "tests/support/x11_input_probe.h"
#include "tests/support/xvfb.h"

namespace lifeline {
namespace {

using testing::ProbeEvent;
using testing::X11InputProbe;
using testing::Xvfb;

std::unique_ptr<InputInjector> MakeInjector(const Xvfb& xvfb) {
  auto injector = CreateX11InputInjector(xvfb.display());
  REQUIRE(injector.ok());
  return std::move(injector).value();
}

TEST_CASE("X11 injector: the pointer lands exactly where asked", "[capture][input][display]") {
  Xvfb xvfb(1000, 700);
  X11InputProbe probe(xvfb.display());
  auto injector = MakeInjector(xvfb);
  CHECK(injector->screen_size() == Size{1000, 700});
  for (auto [x, y] : std::vector<std::pair<int, int>>{{10, 10}, {999, 699}, {517, 333}}) {
    REQUIRE(injector->MovePointer(x, y).ok());
    CHECK(probe.WaitForPointer(x, y, 2000) == std::pair<int, int>(x, y));
  }
}

TEST_CASE("X11 injector: buttons and wheel reach a window", "[capture][input][display]") {
  Xvfb xvfb(800, 600);
  X11InputProbe probe(xvfb.display());
  auto injector = MakeInjector(xvfb);
  REQUIRE(injector->MovePointer(120, 340).ok());
  REQUIRE(injector->Button(MouseButton::kLeft, true).ok());
  REQUIRE(injector->Button(MouseButton::kLeft, false).ok());
  REQUIRE(injector->Button(MouseButton::kRight, true).ok());
  REQUIRE(injector->Button(MouseButton::kRight, false).ok());
  REQUIRE(injector->Wheel(0, 2).ok());   // Two steps up: button 4 twice.
  REQUIRE(injector->Wheel(-1, 0).ok());  // One step left: button 6.
  const auto events = probe.Collect(10, 3000);
  REQUIRE(events.size() == 10);
  const std::vector<int> expected_buttons = {1, 1, 3, 3, 4, 4, 4, 4, 6, 6};
  for (size_t i = 0; i < events.size(); ++i) {
    INFO("event " << i);
    CHECK(events[i].button == expected_buttons[i]);
    CHECK(events[i].type ==
          (i % 2 == 0 ? ProbeEvent::Type::kButtonPress : ProbeEvent::Type::kButtonRelease));
  }
  CHECK(events[0].x == 120);
  CHECK(events[0].y == 340);
}

TEST_CASE("X11 injector: keys by keysym reach the focused window", "[capture][input][display]") {
  Xvfb xvfb(800, 600);
  X11InputProbe probe(xvfb.display());
  auto injector = MakeInjector(xvfb);
  constexpr uint32_t kReturn = 0xff0d;
  constexpr uint32_t kControlL = 0xffe3;
  REQUIRE(injector->Key('a', true).ok());
  REQUIRE(injector->Key('a', false).ok());
  REQUIRE(injector->Key(kControlL, true).ok());
  REQUIRE(injector->Key('c', true).ok());
  REQUIRE(injector->Key('c', false).ok());
  REQUIRE(injector->Key(kControlL, false).ok());
  REQUIRE(injector->Key(kReturn, true).ok());
  REQUIRE(injector->Key(kReturn, false).ok());
  const auto events = probe.Collect(8, 3000);
  REQUIRE(events.size() == 8);
  CHECK(X11InputProbe::PressedKeysyms(events) ==
        std::vector<uint32_t>{'a', kControlL, 'c', kReturn});
  CHECK(events[1].type == ProbeEvent::Type::kKeyRelease);
  // A release for a key never pressed is ignored (nothing stuck, nothing sent).
  REQUIRE(injector->Key('q', false).ok());
  CHECK(probe.Collect(1, 300).empty());
}

TEST_CASE("X11 injector: text comes out exactly, whatever the keymap holds",
          "[capture][input][display]") {
  Xvfb xvfb(800, 600);
  X11InputProbe probe(xvfb.display());
  auto injector = MakeInjector(xvfb);
  constexpr uint32_t kShiftL = 0xffe1;
  // Shift held by the viewer must not turn "a" into "A".
  REQUIRE(injector->Key(kShiftL, true).ok());
  // 'A' needs Shift, 'é' (0xe9) and '€' (U+20AC) are not on the US keymap (spare keycode).
  REQUIRE(injector->Text("aA\xc3\xa9\xe2\x82\xac!").ok());
  REQUIRE(injector->Key(kShiftL, false).ok());
  const auto events = probe.Collect(18, 3000);  // 6 of them Shift_L.
  std::vector<uint32_t> typed;
  for (uint32_t keysym : X11InputProbe::PressedKeysyms(events)) {
    if (keysym != kShiftL)
      typed.push_back(keysym);
  }
  CHECK(typed == std::vector<uint32_t>{'a', 'A', 0xe9, 0x010020ac, '!'});
  CHECK_FALSE(injector->Text("\xff\xfe").ok());  // Invalid UTF-8: refused.
}

}  // namespace
}  // namespace lifeline
