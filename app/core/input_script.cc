#include "app/core/input_script.h"

#include <charconv>
#include <chrono>
#include <thread>

#include "app/core/keysyms.h"
#include "base/utf8.h"

namespace lifeline {
namespace {

constexpr int kMaxWaitMs = 600'000;
constexpr int kMaxCoordinate = 65535;
constexpr int kMaxWheelSteps = 100;

bool ParseInt(std::string_view text, int min, int max, int* out) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return false;
  *out = value;
  return true;
}

std::vector<std::string_view> SplitWords(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
      ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t')
      ++j;
    if (j > i)
      words.push_back(text.substr(i, j - i));
    i = j;
  }
  return words;
}

bool ParseButton(std::string_view name, int* out) {
  if (name == "left")
    *out = wire::POINTER_BUTTON_LEFT;
  else if (name == "middle")
    *out = wire::POINTER_BUTTON_MIDDLE;
  else if (name == "right")
    *out = wire::POINTER_BUTTON_RIGHT;
  else if (name == "back")
    *out = wire::POINTER_BUTTON_BACK;
  else if (name == "forward")
    *out = wire::POINTER_BUTTON_FORWARD;
  else
    return false;
  return true;
}

}  // namespace

Expected<std::vector<InputScriptStep>> ParseInputScript(std::string_view script) {
  if (script.size() > kMaxInputScriptBytes) {
    return Error{ErrorCode::kUsage,
                 "input script is larger than " + std::to_string(kMaxInputScriptBytes) + " bytes"};
  }
  std::vector<InputScriptStep> steps;
  int line_number = 0;
  while (!script.empty()) {
    ++line_number;
    const size_t end = script.find('\n');
    std::string_view line = script.substr(0, end);
    script.remove_prefix(end == std::string_view::npos ? script.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    auto fail = [&](const std::string& what) {
      return Error{ErrorCode::kUsage,
                   "input script line " + std::to_string(line_number) + ": " + what};
    };
    // The command word, and for text/clipboard the rest of the line verbatim.
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#')
      continue;
    line.remove_prefix(start);
    const size_t space = line.find_first_of(" \t");
    const std::string_view command = line.substr(0, space);
    const std::string_view rest =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    const std::vector<std::string_view> args = SplitWords(rest);
    InputScriptStep step;
    step.line = line_number;
    if (command == "text" || command == "clipboard") {
      if (!IsValidUtf8(rest))
        return fail("text is not valid UTF-8");
      step.type =
          command == "text" ? InputScriptStep::Type::kText : InputScriptStep::Type::kClipboard;
      step.text = std::string(rest);
    } else if (command == "wait") {
      step.type = InputScriptStep::Type::kWait;
      if (args.size() != 1 || !ParseInt(args[0], 0, kMaxWaitMs, &step.a))
        return fail("expected 'wait MS' with MS in 0-" + std::to_string(kMaxWaitMs));
    } else if (command == "move") {
      step.type = InputScriptStep::Type::kMove;
      if (args.size() != 2 || !ParseInt(args[0], 0, kMaxCoordinate, &step.a) ||
          !ParseInt(args[1], 0, kMaxCoordinate, &step.b)) {
        return fail("expected 'move X Y' with X, Y in 0-" + std::to_string(kMaxCoordinate));
      }
    } else if (command == "down" || command == "up" || command == "click") {
      step.type =
          command == "click" ? InputScriptStep::Type::kClick : InputScriptStep::Type::kButton;
      step.pressed = command == "down";
      if (args.size() != 1 || !ParseButton(args[0], &step.a))
        return fail("expected a button: left, middle, right, back or forward");
    } else if (command == "wheel") {
      step.type = InputScriptStep::Type::kWheel;
      if (args.size() != 2 || !ParseInt(args[0], -kMaxWheelSteps, kMaxWheelSteps, &step.a) ||
          !ParseInt(args[1], -kMaxWheelSteps, kMaxWheelSteps, &step.b)) {
        return fail("expected 'wheel DX DY' with steps in -100..100");
      }
    } else if (command == "key" || command == "keydown" || command == "keyup") {
      step.type = InputScriptStep::Type::kKey;
      step.press_and_release = command == "key";
      step.pressed = command == "keydown";
      if (args.size() != 1)
        return fail("expected one key name");
      auto keysym = keysym::KeysymFromName(args[0]);
      if (!keysym)
        return fail("unknown key name '" + std::string(args[0]) + "'");
      step.keysym = *keysym;
    } else if (command == "combo") {
      step.type = InputScriptStep::Type::kCombo;
      if (args.size() != 1)
        return fail("expected one combination name");
      auto combo = ParseSpecialCombo(args[0]);
      if (!combo)
        return fail("unknown combination (ctrl-alt-del, alt-tab, super, ctrl-esc, print)");
      step.combo = *combo;
    } else {
      return fail("unknown command '" + std::string(command) + "'");
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

Status RunInputScript(const std::vector<InputScriptStep>& steps,
                      RemoteControlViewer& control,
                      const std::atomic<bool>& stop) {
  int x = 0;
  int y = 0;
  uint32_t modifiers = 0;
  for (const InputScriptStep& step : steps) {
    if (stop.load())
      return Status(ErrorCode::kCancelled, "input script stopped");
    bool sent = true;
    switch (step.type) {
      case InputScriptStep::Type::kWait: {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(step.a);
        while (!stop.load() && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        break;
      }
      case InputScriptStep::Type::kMove:
        x = step.a;
        y = step.b;
        sent = control.SendMove(x, y);
        break;
      case InputScriptStep::Type::kButton:
        sent = control.SendButton(x, y, static_cast<wire::PointerButton>(step.a), step.pressed);
        break;
      case InputScriptStep::Type::kClick:
        sent = control.SendButton(x, y, static_cast<wire::PointerButton>(step.a), true) &&
               control.SendButton(x, y, static_cast<wire::PointerButton>(step.a), false);
        break;
      case InputScriptStep::Type::kWheel:
        sent = control.SendWheel(x, y, step.a, step.b);
        break;
      case InputScriptStep::Type::kKey: {
        const uint32_t bit = keysym::ModifierBitOf(step.keysym);
        if (step.press_and_release) {
          sent = control.SendKey(step.keysym, true, modifiers | bit) &&
                 control.SendKey(step.keysym, false, modifiers);
        } else {
          modifiers = step.pressed ? (modifiers | bit) : (modifiers & ~bit);
          sent = control.SendKey(step.keysym, step.pressed, modifiers);
        }
        break;
      }
      case InputScriptStep::Type::kCombo:
        sent = control.SendCombo(step.combo);
        break;
      case InputScriptStep::Type::kText:
        sent = control.SendText(step.text);
        break;
      case InputScriptStep::Type::kClipboard: {
        Status st = control.SendClipboard(step.text);
        if (!st.ok())
          return st;
        break;
      }
    }
    if (!sent) {
      return Status(ErrorCode::kConnectionClosed,
                    "input script line " + std::to_string(step.line) +
                        ": the session does not accept input (not started or ended)");
    }
  }
  return Status::Ok();
}

}  // namespace lifeline
