// Fuzz target: remote-control input from a peer. The first byte picks the parser:
//   0: a stream of framed Envelopes; every remote-control message goes through
//      RemoteControlHost (validation + input filter + a recording injector), and
//      ClipboardText through the viewer's validation too;
//   1: the rest is an input script (ParseInputScript);
//   2: the rest is UTF-8 to decode;
//   3: the rest is a file name for ValidateTransferName (what passes is one plain name).
// Checks: nothing crashes; what reaches the injector was validated (text is valid UTF-8
// within the limit, pointer positions inside the screen).
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "app/core/file_receiver.h"
#include "app/core/file_transfer.h"
#include "app/core/input_script.h"
#include "app/core/remote_control_host.h"
#include "base/utf8.h"
#include "net/framing.h"
#include "net/proto/lifeline.pb.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

using lifeline::wire::Envelope;

void Check(bool condition) {
  if (!condition)
    __builtin_trap();
}

std::vector<uint8_t> EncodeOrDie(const Envelope& envelope) {
  auto encoded = lifeline::EncodeEnvelope(envelope);
  if (!encoded.ok())
    std::abort();
  return std::move(encoded).value();
}

void FuzzMessages(std::span<const uint8_t> input) {
  auto fake = std::make_unique<lifeline::FakeInputInjector>(lifeline::Size{640, 480});
  lifeline::FakeInputInjector* events = fake.get();
  lifeline::RemoteControlHost host(lifeline::RemoteControlOptions{});
  host.AttachInjector(std::move(fake));
  lifeline::FrameReader reader;
  Envelope message;
  while (!input.empty()) {
    if (reader.Read(&input, &message) != lifeline::FrameReader::Result::kMessage)
      break;
    if (message.has_file_offer())
      static_cast<void>(lifeline::ValidateFileOffer(message.file_offer()));
    if (message.has_clipboard_text())
      static_cast<void>(lifeline::ValidateClipboardText(message.clipboard_text()));
    if (!lifeline::RemoteControlHost::Handles(message))
      continue;
    lifeline::Status st = host.HandleMessage(message);
    Check(st.ok() || !st.error().message.empty());
    if (message.payload_case() == Envelope::kPointerEvent && message.pointer_event().x() == 7)
      host.SetPaused(!host.paused());  // Exercise pausing too.
  }
  for (const auto& e : events->events()) {
    if (e.type == lifeline::FakeInputInjector::Event::Type::kMove)
      Check(e.x >= 0 && e.x < 640 && e.y >= 0 && e.y < 480);
    if (e.type == lifeline::FakeInputInjector::Event::Type::kText)
      Check(e.text.size() <= lifeline::kMaxTextEventBytes && lifeline::IsValidUtf8(e.text));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool kQuiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)kQuiet;
  if (size == 0)
    return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzMessages(std::span<const uint8_t>(data + 1, size - 1));
      break;
    case 1: {
      auto steps = lifeline::ParseInputScript(rest);
      Check(steps.ok() || !steps.error().message.empty());
      break;
    }
    case 2: {
      std::u32string code_points;
      if (lifeline::DecodeUtf8(rest, &code_points)) {
        for (char32_t cp : code_points)
          Check(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
      }
      break;
    }
    case 3:
      if (lifeline::ValidateTransferName(rest).ok()) {
        Check(!rest.empty() && rest != "." && rest != "..");
        Check(rest.find_first_of(std::string_view("/\\:\0", 4)) == std::string_view::npos);
        Check(lifeline::IsValidUtf8(rest));
      }
      break;
  }
  return 0;
}

namespace lifeline::fuzz {

std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  std::vector<uint8_t> messages = {0};
  auto append = [&](const Envelope& envelope) {
    const auto bytes = EncodeOrDie(envelope);
    messages.insert(messages.end(), bytes.begin(), bytes.end());
  };
  Envelope m;
  m.mutable_pointer_event()->set_x(100);
  m.mutable_pointer_event()->set_y(200);
  m.mutable_pointer_event()->set_button(wire::POINTER_BUTTON_LEFT);
  m.mutable_pointer_event()->set_pressed(true);
  m.mutable_pointer_event()->set_wheel_y(-2);
  append(m);
  m.Clear();
  m.mutable_key_event()->set_keysym(0xffe3);
  m.mutable_key_event()->set_pressed(true);
  m.mutable_key_event()->set_modifiers(2);
  append(m);
  m.Clear();
  m.mutable_text_event()->set_text(
      "Gr\xc3\xbc\xc3\x9f"
      "e \xe2\x82\xac");
  append(m);
  m.Clear();
  m.mutable_clipboard_text()->set_text("ls -la\n");
  append(m);
  seeds.push_back(messages);
  const std::string script =
      "move 1 2\nclick left\nkeydown Control_L\nkey c\nkeyup Control_L\ntext hi\n"
      "combo alt-tab\nwheel 0 -1\nwait 1\nclipboard x\n";
  std::vector<uint8_t> script_seed = {1};
  script_seed.insert(script_seed.end(), script.begin(), script.end());
  seeds.push_back(script_seed);
  std::vector<uint8_t> utf8_seed = {2, 'a', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80};
  seeds.push_back(utf8_seed);
  const std::string name = "../etc/passwd";
  std::vector<uint8_t> name_seed = {3};
  name_seed.insert(name_seed.end(), name.begin(), name.end());
  seeds.push_back(name_seed);
  return seeds;
}

}  // namespace lifeline::fuzz
