// Remote control in the session core: the input filter (view-only, pause), message
// validation, the viewer's message building, input scripts, and the whole path through
// HostSession and ViewerSession over real TLS with a recording injector.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/core/host_session.h"
#include "app/core/input_filter.h"
#include "app/core/input_script.h"
#include "app/core/keysyms.h"
#include "app/core/remote_control_host.h"
#include "app/core/remote_control_viewer.h"
#include "app/core/viewer_session.h"
#include "net/framing.h"
#include "tests/app/secure_session_fixture.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using Event = FakeInputInjector::Event;
using testing::HostSecurityFixture;
using testing::kTestPassword;
using testing::SecureEnd;

// Forwards to a FakeInputInjector the test keeps (the session owns the forwarder).
class SharedInjector final : public InputInjector {
 public:
  explicit SharedInjector(std::shared_ptr<FakeInputInjector> fake) : fake_(std::move(fake)) {}
  Status MovePointer(int x, int y) override { return fake_->MovePointer(x, y); }
  Status Button(MouseButton b, bool p) override { return fake_->Button(b, p); }
  Status Wheel(int dx, int dy) override { return fake_->Wheel(dx, dy); }
  Status Key(uint32_t k, bool p) override { return fake_->Key(k, p); }
  Status Text(std::string_view t) override { return fake_->Text(t); }
  Size screen_size() const override { return fake_->screen_size(); }

 private:
  std::shared_ptr<FakeInputInjector> fake_;
};

std::vector<Event::Type> Types(const std::vector<Event>& events) {
  std::vector<Event::Type> types;
  for (const Event& e : events)
    types.push_back(e.type);
  return types;
}

TEST_CASE("Input filter: full control passes events, clamped to the captured area",
          "[app][input]") {
  auto fake = std::make_shared<FakeInputInjector>(Size{1920, 1080});
  InputFilter filter(std::make_unique<SharedInjector>(fake), ControlMode::kFull);
  REQUIRE(filter.MovePointer(100, 200).ok());
  REQUIRE(filter.MovePointer(-5, 5000).ok());
  filter.SetCapturedArea(Rect{1920, 0, 1280, 1024});  // A second monitor to the right.
  REQUIRE(filter.MovePointer(10, 20).ok());
  REQUIRE(filter.MovePointer(4000, 4000).ok());
  const auto events = fake->events();
  REQUIRE(events.size() == 4);
  CHECK((events[0].x == 100 && events[0].y == 200));
  CHECK((events[1].x == 0 && events[1].y == 1079));
  CHECK((events[2].x == 1930 && events[2].y == 20));
  CHECK((events[3].x == 1920 + 1279 && events[3].y == 1023));
  CHECK(filter.stats().events_injected == 4);
}

TEST_CASE("Input filter: a view-only session injects nothing", "[app][input]") {
  auto fake = std::make_shared<FakeInputInjector>();
  InputFilter filter(std::make_unique<SharedInjector>(fake), ControlMode::kViewOnly);
  CHECK_FALSE(filter.allowed());
  REQUIRE(filter.MovePointer(1, 1).ok());
  REQUIRE(filter.Button(MouseButton::kLeft, true).ok());
  REQUIRE(filter.Key('a', true).ok());
  REQUIRE(filter.Text("hello").ok());
  REQUIRE(filter.Wheel(0, 1).ok());
  filter.SetPaused(false);  // Resuming does not lift view-only.
  REQUIRE(filter.Key('b', true).ok());
  CHECK(fake->events().empty());
  CHECK(filter.stats().events_blocked == 6);
}

TEST_CASE("Input filter: pausing releases held keys and blocks until resumed", "[app][input]") {
  auto fake = std::make_shared<FakeInputInjector>();
  InputFilter filter(std::make_unique<SharedInjector>(fake), ControlMode::kFull);
  REQUIRE(filter.Key(keysym::kControlL, true).ok());
  REQUIRE(filter.Button(MouseButton::kLeft, true).ok());
  filter.SetPaused(true);
  auto events = fake->events();
  REQUIRE(events.size() == 4);  // Two presses, then both released by the pause.
  CHECK((events[2].type == Event::Type::kKey && events[2].keysym == keysym::kControlL &&
         !events[2].pressed));
  CHECK((events[3].type == Event::Type::kButton && events[3].button == 1 && !events[3].pressed));
  REQUIRE(filter.Key('x', true).ok());
  REQUIRE(filter.MovePointer(3, 3).ok());
  CHECK(fake->events().size() == 4);  // Dropped while paused.
  filter.SetPaused(false);
  // The release of a key pressed before the pause is not sent twice.
  REQUIRE(filter.Key(keysym::kControlL, false).ok());
  REQUIRE(filter.Key('y', true).ok());
  events = fake->events();
  REQUIRE(events.size() == 5);
  CHECK(events[4].keysym == 'y');
}

TEST_CASE("Input filter: stale modifiers are released, and everything at the end", "[app][input]") {
  auto fake = std::make_shared<FakeInputInjector>();
  {
    InputFilter filter(std::make_unique<SharedInjector>(fake), ControlMode::kFull);
    REQUIRE(filter.Key(keysym::kControlL, true).ok());
    REQUIRE(filter.Key(keysym::kShiftL, true).ok());
    REQUIRE(filter.SyncModifiers(wire::KEY_MODIFIER_SHIFT).ok());  // Control came up unseen.
    auto events = fake->events();
    REQUIRE(events.size() == 3);
    CHECK((events[2].keysym == keysym::kControlL && !events[2].pressed));
  }
  const auto events = fake->events();
  REQUIRE(events.size() == 4);  // The filter's end released Shift.
  CHECK((events[3].keysym == keysym::kShiftL && !events[3].pressed));
}

TEST_CASE("Remote control host: malformed messages are errors", "[app][input]") {
  RemoteControlHost host(RemoteControlOptions{});
  auto fake = std::make_shared<FakeInputInjector>();
  host.AttachInjector(std::make_unique<SharedInjector>(fake));
  wire::Envelope m;
  m.mutable_pointer_event()->set_button(static_cast<wire::PointerButton>(7));
  CHECK(host.HandleMessage(m).code() == ErrorCode::kMalformedMessage);
  m.Clear();
  m.mutable_key_event()->set_keysym(0);
  CHECK(host.HandleMessage(m).code() == ErrorCode::kMalformedMessage);
  m.Clear();
  m.mutable_text_event()->set_text("\xc0\xaf");  // Overlong '/'.
  CHECK(host.HandleMessage(m).code() == ErrorCode::kMalformedMessage);
  m.Clear();
  m.mutable_text_event()->set_text(std::string(kMaxTextEventBytes + 1, 'a'));
  CHECK(host.HandleMessage(m).code() == ErrorCode::kMalformedMessage);
  CHECK(fake->events().empty());
  // A well-formed click: move, press.
  m.Clear();
  m.mutable_pointer_event()->set_x(5);
  m.mutable_pointer_event()->set_y(6);
  m.mutable_pointer_event()->set_button(wire::POINTER_BUTTON_RIGHT);
  m.mutable_pointer_event()->set_pressed(true);
  REQUIRE(host.HandleMessage(m).ok());
  CHECK(Types(fake->events()) == std::vector{Event::Type::kMove, Event::Type::kButton});
  // An injector failure is reported (the session ends on it).
  fake->set_fail_next(true);
  m.Clear();
  m.mutable_key_event()->set_keysym('a');
  m.mutable_key_event()->set_pressed(true);
  CHECK(host.HandleMessage(m).code() == ErrorCode::kInputInjectionFailed);
}

TEST_CASE("Remote control host: the clipboard setting decides the direction", "[app][input]") {
  for (ClipboardMode mode : {ClipboardMode::kOff, ClipboardMode::kBoth,
                             ClipboardMode::kHostToViewer, ClipboardMode::kViewerToHost}) {
    RemoteControlHost host(RemoteControlOptions{.clipboard_mode = mode});
    std::string received;
    host.on_clipboard_from_viewer = [&](const std::string& text) { received = text; };
    wire::Envelope m;
    m.mutable_clipboard_text()->set_text("ls -la");
    REQUIRE(host.HandleMessage(m).ok());
    const bool allowed = mode == ClipboardMode::kBoth || mode == ClipboardMode::kViewerToHost;
    CHECK(received == (allowed ? "ls -la" : ""));
  }
}

TEST_CASE("Remote control viewer: text is cut at character boundaries", "[app][input]") {
  std::vector<wire::Envelope> sent;
  RemoteControlViewer viewer([&](const wire::Envelope& m) {
    sent.push_back(m);
    return true;
  });
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "\xe2\x82\xac";  // 3-byte euro signs: 600 bytes.
  REQUIRE(viewer.SendText(text));
  std::string joined;
  for (const auto& m : sent) {
    REQUIRE(m.payload_case() == wire::Envelope::kTextEvent);
    CHECK(m.text_event().text().size() <= kMaxTextEventBytes);
    CHECK(m.text_event().text().size() % 3 == 0);
    joined += m.text_event().text();
    CHECK(EncodeEnvelope(m).ok());  // Within the wire limit.
  }
  CHECK(joined == text);
  CHECK_FALSE(viewer.SendText("\xed\xa0\x80"));  // A surrogate: not sent.
  sent.clear();
  REQUIRE(viewer.SendCombo(SpecialCombo::kCtrlAltDel));
  REQUIRE(sent.size() == 6);
  CHECK(sent[2].key_event().keysym() == keysym::kDelete);
  CHECK(sent[2].key_event().modifiers() == (wire::KEY_MODIFIER_CONTROL | wire::KEY_MODIFIER_ALT));
  CHECK(sent[5].key_event().keysym() == keysym::kControlL);
  CHECK_FALSE(sent[5].key_event().pressed());
  CHECK(viewer.SendClipboard(std::string(kMaxClipboardBytes + 1, 'x')).code() ==
        ErrorCode::kClipboardTooLarge);
}

TEST_CASE("Viewer coordinates map to host-frame pixels with scaling and letterboxing",
          "[app][input]") {
  // A 1920x1080 host shown in a 1280x720 window: scale 2/3.
  const Rect view{0, 0, 1280, 720};
  CHECK(MapViewToFrame(0, 0, view, {1920, 1080}, false) == std::pair(0, 0));
  CHECK(MapViewToFrame(640, 360, view, {1920, 1080}, false) == std::pair(960, 540));
  CHECK(MapViewToFrame(1279, 719, view, {1920, 1080}, false) == std::pair(1918, 1078));
  // Fullscreen 1920x1200 showing 1920x1080: bars of 60 px above and below.
  const Rect letterboxed{0, 60, 1920, 1080};
  CHECK_FALSE(MapViewToFrame(10, 30, letterboxed, {1920, 1080}, false));
  CHECK(MapViewToFrame(10, 30, letterboxed, {1920, 1080}, true) == std::pair(10, 0));
  CHECK(MapViewToFrame(1919, 1139, letterboxed, {1920, 1080}, false) == std::pair(1919, 1079));
}

TEST_CASE("Input scripts parse, and bad lines are named", "[app][input]") {
  auto steps = ParseInputScript(
      "# comment\n\nmove 10 20\nclick left\nkeydown Control_L\nkey c\nkeyup Control_L\n"
      "text Grüße, world\ncombo alt-tab\nwheel 0 -2\nwait 5\nclipboard echo hi\n");
  REQUIRE(steps.ok());
  REQUIRE(steps->size() == 10);
  CHECK((*steps)[0].type == InputScriptStep::Type::kMove);
  CHECK((*steps)[3].keysym == 'c');
  CHECK((*steps)[5].text == "Grüße, world");
  CHECK((*steps)[9].text == "echo hi");
  for (const char* bad : {"move 1\n", "click sideways\n", "key NoSuchKey\n", "wait -1\n",
                          "jump 1 2\n", "text \xff\n", "wheel 0 1000\n", "combo ctrl-alt\n"}) {
    INFO(bad);
    auto result = ParseInputScript(std::string("move 1 1\n") + bad);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kUsage);
    CHECK(result.error().message.find("line 2") != std::string::npos);
  }
}

// --- The whole path through the session cores. ---

HostOptions SmallHost(std::shared_ptr<FakeInputInjector> fake,
                      std::atomic<int>* factory_calls,
                      ControlMode mode = ControlMode::kFull) {
  HostOptions options;
  options.capture.source = CaptureSource::kSynthetic;
  options.capture.synthetic_size = Size{320, 240};
  options.max_fps = 30;
  options.bitrate_kbps = 500;
  options.handshake_timeout_ms = 20'000;
  options.remote_control.control_mode = mode;
  options.input_injector_factory =
      [fake, factory_calls](const CaptureOptions&) -> Expected<std::unique_ptr<InputInjector>> {
    ++*factory_calls;
    return std::unique_ptr<InputInjector>(new SharedInjector(fake));
  };
  return options;
}

using HostThread = testing::HostSessionThread;

std::unique_ptr<ViewerSession> StartViewer(const HostSecurityFixture& fixture, SecureEnd end) {
  ViewerOptions options;
  options.own_device_id = fixture.viewer_id();
  options.password = kTestPassword;
  options.handshake_timeout_ms = 20'000;
  auto viewer = std::make_unique<ViewerSession>(options, end.info, std::move(end.transport));
  REQUIRE(viewer->Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!viewer->authenticated() && !viewer->closed() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(viewer->authenticated());
  return viewer;
}

bool WaitForEvents(const FakeInputInjector& fake, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (fake.events().size() < count && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  return fake.events().size() >= count;
}

TEST_CASE("Session: the viewer's keys and clicks reach the host's injector", "[app][input]") {
  HostSecurityFixture fixture;
  auto fake = std::make_shared<FakeInputInjector>(Size{320, 240});
  std::atomic<int> factory_calls{0};
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(SmallHost(fake, &factory_calls), fixture, std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end));
  // Wait for a frame so the captured area is known.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!viewer->last_frame() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  RemoteControlViewer& control = viewer->remote_control();
  REQUIRE(control.SendButton(300, 500, wire::POINTER_BUTTON_LEFT, true));
  REQUIRE(control.SendButton(300, 500, wire::POINTER_BUTTON_LEFT, false));
  REQUIRE(control.SendKey('q', true, 0));
  REQUIRE(control.SendKey('q', false, 0));
  REQUIRE(control.SendText("hi"));
  REQUIRE(WaitForEvents(*fake, 7));
  const auto events = fake->events();
  CHECK((events[0].x == 300 && events[0].y == 239));  // Clamped into the 320x240 frame.
  CHECK((events[1].button == 1 && events[1].pressed));
  CHECK((events[4].keysym == 'q' && events[4].pressed));
  CHECK(events[6].text == "hi");
  CHECK(factory_calls == 1);

  // "Pause control" in the core: nothing more arrives until resumed.
  host.session().remote_control().SetPaused(true);
  REQUIRE(control.SendKey('z', true, 0));
  REQUIRE(control.SendText("blocked"));
  REQUIRE(control.SendMove(1, 1));
  std::this_thread::sleep_for(300ms);
  CHECK(fake->events().size() == 7);
  host.session().remote_control().SetPaused(false);
  REQUIRE(control.SendKey('w', true, 0));
  REQUIRE(WaitForEvents(*fake, 8));
  CHECK(fake->events()[7].keysym == 'w');
  viewer->Stop();
  CHECK(host.Join().ok());
  // The session's end released the key still held.
  const auto after = fake->events();
  REQUIRE(after.size() == 9);
  CHECK((after[8].keysym == 'w' && !after[8].pressed));
}

TEST_CASE("Session: a view-only host injects nothing and creates no injector", "[app][input]") {
  HostSecurityFixture fixture;
  auto fake = std::make_shared<FakeInputInjector>();
  std::atomic<int> factory_calls{0};
  auto [host_end, viewer_end] = fixture.Connect();
  HostThread host(SmallHost(fake, &factory_calls, ControlMode::kViewOnly), fixture,
                  std::move(host_end));
  auto viewer = StartViewer(fixture, std::move(viewer_end));
  RemoteControlViewer& control = viewer->remote_control();
  for (int i = 0; i < 5; ++i) {
    REQUIRE(control.SendMove(i, i));
    REQUIRE(control.SendKey('a', true, 0));
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (host.session().remote_control().input_stats().events_blocked < 10 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  CHECK(host.session().remote_control().input_stats().events_blocked == 10);
  CHECK(fake->events().empty());
  CHECK(factory_calls == 0);
  CHECK_FALSE(viewer->closed());  // Blocking is policy, not a protocol error.
}

// A viewer that sends input right after Hello, before authenticating.
class EarlyInputViewer : public MessageChannel::Delegate {
 public:
  EarlyInputViewer(SecureEnd end, const std::string& own_id, wire::Envelope early)
      : early_(std::move(early)) {
    ChannelOptions options;
    options.hello.set_role(wire::ROLE_VIEWER);
    options.hello.add_video_codecs(1);
    options.hello.set_device_id(own_id);
    channel_ = std::make_unique<MessageChannel>(std::move(end.transport), options, this);
    channel_->Start();
  }
  ~EarlyInputViewer() override { channel_->Stop(); }
  void OnConnected(const wire::Hello&) override { channel_->Send(early_, SendPriority::kControl); }
  void OnMessage(const wire::Envelope&) override {}
  void OnClosed(const Error& reason) override {
    std::lock_guard lock(mutex_);
    reason_ = reason;
  }
  MessageChannel& channel() { return *channel_; }
  Error reason() {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  wire::Envelope early_;
  std::unique_ptr<MessageChannel> channel_;
  std::mutex mutex_;
  Error reason_;
};

TEST_CASE("Session: input before authentication closes the connection, nothing injected",
          "[app][input][auth]") {
  std::vector<wire::Envelope> early(4);
  early[0].mutable_pointer_event()->set_x(10);
  early[1].mutable_key_event()->set_keysym('a');
  early[1].mutable_key_event()->set_pressed(true);
  early[2].mutable_text_event()->set_text("rm -rf ~");
  early[3].mutable_clipboard_text()->set_text("secret");
  for (const wire::Envelope& message : early) {
    INFO("early message type " << message.payload_case());
    HostSecurityFixture fixture;
    auto fake = std::make_shared<FakeInputInjector>();
    std::atomic<int> factory_calls{0};
    auto [host_end, viewer_end] = fixture.Connect();
    HostThread host(SmallHost(fake, &factory_calls), fixture, std::move(host_end));
    EarlyInputViewer viewer(std::move(viewer_end), fixture.viewer_id(), message);
    CHECK_FALSE(host.Join().ok());
    REQUIRE(viewer.channel().WaitClosed(20'000));
    CHECK(viewer.reason().code == ErrorCode::kPeerError);
    CHECK(fake->events().empty());
    CHECK(factory_calls == 0);
  }
}

}  // namespace
}  // namespace lifeline
