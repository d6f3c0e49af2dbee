// Input scripts: scripted keyboard and mouse for `lifeline view --headless --input-script
// FILE` (tests, demos, the latency check). One command per line; '#' starts a comment.
//
//   wait MS                  pause
//   move X Y                 pointer to host-frame pixel (X, Y)
//   down|up|click BUTTON     left, middle, right, back, forward (at the last position)
//   wheel DX DY              wheel steps (DY > 0: up)
//   key NAME                 press and release (keysyms.h names: Return, Control_L, F5,
//   keydown NAME / keyup NAME    a, 0xff0d ...)
//   combo NAME               ctrl-alt-del, alt-tab, super, ctrl-esc, print
//   text TEXT                types the rest of the line (UTF-8)
//   clipboard TEXT           puts the rest of the line on the host's clipboard
//
// Threading: parsing is pure; RunInputScript blocks the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/core/remote_control_viewer.h"
#include "base/status.h"

namespace lifeline {

inline constexpr size_t kMaxInputScriptBytes = 1 << 20;

struct InputScriptStep {
  enum class Type { kWait, kMove, kButton, kClick, kWheel, kKey, kCombo, kText, kClipboard };
  Type type = Type::kWait;
  int a = 0;             // wait: ms; move: x; wheel: dx; button/click: wire::PointerButton.
  int b = 0;             // move: y; wheel: dy.
  bool pressed = false;  // button, key (kKey with `press_and_release` false).
  bool press_and_release = false;  // key NAME.
  uint32_t keysym = 0;
  SpecialCombo combo = SpecialCombo::kAltTab;
  std::string text;
  int line = 0;
};

// Error kUsage naming the line and what is wrong; nothing partial is returned.
Expected<std::vector<InputScriptStep>> ParseInputScript(std::string_view script);

// Sends the steps in order. Error kConnectionClosed when the session stops accepting
// input; kCancelled when `stop` became true.
Status RunInputScript(const std::vector<InputScriptStep>& steps,
                      RemoteControlViewer& control,
                      const std::atomic<bool>& stop);

}  // namespace lifeline
