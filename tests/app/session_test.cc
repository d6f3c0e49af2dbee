// Host and viewer session cores, end to end in one process over a socket pair, with the
// synthetic capturer and the real VP8 encoder and decoder.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "app/core/host_session.h"
#include "app/core/viewer_session.h"
#include "base/time.h"
#include "capture/synthetic_capturer.h"
#include "net/testing/transport_pair.h"
#include "net/video_chunks.h"
#include "tests/app/secure_session_fixture.h"

namespace lifeline {
namespace {

using namespace std::chrono_literals;
using testing::HostSecurityFixture;
using testing::kTestPassword;
using testing::SecureEnd;

HostOptions SyntheticHost(int window = 2) {
  HostOptions options;
  options.capture.source = CaptureSource::kSynthetic;
  options.capture.synthetic_size = Size{320, 240};
  options.max_fps = 60;
  options.bitrate_kbps = 1000;
  options.max_frames_in_flight = window;
  return options;
}

// Runs HostSession::Run on its own thread.
class HostRunner {
 public:
  HostRunner(HostOptions options,
             HostSecurityFixture& fixture,
             SecureEnd end,
             CapturerFactory factory = CreateScreenCapturer)
      : session_(std::move(options),
                 &fixture.security,
                 end.info,
                 std::move(end.transport),
                 std::move(factory)),
        thread_([this] { result_ = session_.Run(stop_); }) {}
  ~HostRunner() { static_cast<void>(Join()); }
  Status Join() {
    if (thread_.joinable())
      thread_.join();
    return result_;
  }
  void Stop() { stop_ = true; }
  HostSession& session() { return session_; }

 private:
  std::atomic<bool> stop_{false};
  Status result_;
  HostSession session_;
  std::thread thread_;
};

// A hand-driven viewer: records what arrives and acks only when told.
class RawViewer : public MessageChannel::Delegate {
 public:
  RawViewer(SecureEnd end, const std::string& own_id)
      : auth_(own_id, kTestPassword, end.info.channel_binding, nullptr) {
    ChannelOptions options;
    options.hello.set_role(wire::ROLE_VIEWER);
    options.hello.add_video_codecs(1);
    options.hello.set_device_id(own_id);
    channel_ = std::make_unique<MessageChannel>(std::move(end.transport), options, this);
    channel_->Start();
  }
  ~RawViewer() override { channel_->Stop(); }

  void Apply(const AuthStep& step) {
    for (const auto& m : step.to_send)
      channel_->Send(m, SendPriority::kControl);
    if (step.close)
      channel_->Close(*step.close);
  }
  void OnConnected(const wire::Hello& hello) override { Apply(auth_.OnHello(hello)); }
  void OnMessage(const wire::Envelope& message) override {
    if (auth_.state() != ViewerAuthenticator::State::kAuthenticated) {
      Apply(auth_.OnMessage(message));
      return;
    }
    if (message.payload_case() != wire::Envelope::kVideoChunk)
      return;
    auto frame = assembler_.Add(message.video_chunk());
    REQUIRE(frame.ok());
    if (!frame->has_value())
      return;
    std::lock_guard lock(mutex_);
    frames_.push_back(std::move(**frame));
    cv_.notify_all();
  }
  void OnClosed(const Error&) override {}

  size_t WaitForFrames(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return frames_.size() >= count; });
    return frames_.size();
  }
  size_t frame_count() {
    std::lock_guard lock(mutex_);
    return frames_.size();
  }
  AssembledFrame frame(size_t i) {
    std::lock_guard lock(mutex_);
    return frames_.at(i);
  }
  void Ack(uint64_t frame_id) {
    wire::Envelope ack;
    ack.mutable_frame_ack()->set_frame_id(frame_id);
    ack.mutable_frame_ack()->set_decoded(true);
    channel_->Send(ack, SendPriority::kControl);
  }
  MessageChannel& channel() { return *channel_; }

 private:
  ViewerAuthenticator auth_;  // Network thread.
  std::unique_ptr<MessageChannel> channel_;
  ChunkAssembler assembler_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<AssembledFrame> frames_;
};

ViewerOptions ViewerOptionsFor(const HostSecurityFixture& fixture,
                               std::string password = kTestPassword) {
  ViewerOptions options;
  options.own_device_id = fixture.viewer_id();
  options.password = std::move(password);
  return options;
}

TEST_CASE("Host streams synthetic frames that the viewer decodes", "[app][session]") {
  // Forced, so a session that ran used this codec end to end.
  const VideoCodec codec = GENERATE(VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264);
  CAPTURE(ToString(codec));
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  HostOptions options = SyntheticHost();
  options.forced_codec = codec;
  HostRunner host(options, fixture, std::move(host_end));
  ViewerSession viewer(ViewerOptionsFor(fixture), viewer_end.info, std::move(viewer_end.transport));
  REQUIRE(viewer.Start().ok());

  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::shared_ptr<const DecodedFrame> last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = viewer.last_frame();
    if (last && last->frame_id >= 20)
      break;
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(last);
  CHECK(last->frame_id >= 20);
  CHECK(last->image.size == Size{320, 240});
  CHECK(last->decoded_time_us >= last->capture_time_us);  // Same clock in one process.
  CHECK_FALSE(viewer.closed());

  viewer.Stop();  // The viewer leaves: the host's session ends cleanly.
  Status result = host.Join();
  CHECK(result.ok());
  const HostSessionStats stats = host.session().stats();
  CHECK(stats.frames_encoded >= 20);
  CHECK(stats.keyframes >= 1);
  CHECK(stats.max_in_flight_seen <= 2);
  CHECK(stats.bytes_sent > 0);
}

TEST_CASE("The host never has more frames in flight than the window", "[app][session]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  HostRunner host(SyntheticHost(/*window=*/3), fixture, std::move(host_end));
  RawViewer viewer(std::move(viewer_end), fixture.viewer_id());

  REQUIRE(viewer.WaitForFrames(3, 10s) == 3);
  // Without acks nothing more may come, however long the capturer keeps running.
  std::this_thread::sleep_for(700ms);
  CHECK(viewer.frame_count() == 3);
  CHECK(viewer.frame(0).info.keyframe());
  CHECK(viewer.frame(0).frame_id < viewer.frame(1).frame_id);

  viewer.Ack(viewer.frame(0).frame_id);
  REQUIRE(viewer.WaitForFrames(4, 10s) == 4);
  std::this_thread::sleep_for(500ms);
  CHECK(viewer.frame_count() == 4);

  host.Stop();
  CHECK(host.Join().ok());
  CHECK(host.session().stats().max_in_flight_seen == 3);
}

TEST_CASE("A keyframe request makes the next frame a keyframe", "[app][session]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  HostRunner host(SyntheticHost(1), fixture, std::move(host_end));
  RawViewer viewer(std::move(viewer_end), fixture.viewer_id());

  REQUIRE(viewer.WaitForFrames(1, 10s) == 1);
  viewer.Ack(viewer.frame(0).frame_id);
  REQUIRE(viewer.WaitForFrames(2, 10s) == 2);
  CHECK_FALSE(viewer.frame(1).info.keyframe());  // Moving content: a delta frame.

  wire::Envelope request;
  request.mutable_keyframe_request()->set_last_good_frame_id(viewer.frame(1).frame_id);
  viewer.channel().Send(request, SendPriority::kControl);
  viewer.Ack(viewer.frame(1).frame_id);
  REQUIRE(viewer.WaitForFrames(3, 10s) == 3);
  CHECK(viewer.frame(2).info.keyframe());
  host.Stop();
  CHECK(host.Join().ok());
}

// Delivers the same picture forever: whole area first, then no damage.
class StillCapturer : public ScreenCapturer {
 public:
  CaptureResult CaptureFrame(std::unique_ptr<Frame>* frame) override {
    auto out = std::make_unique<Frame>(Size{320, 240});
    SyntheticCapturer::PaintFrame(7, out.get());
    out->mutable_updated_region()->Clear();
    if (sequence_ == 0)
      out->mutable_updated_region()->Add(Rect{0, 0, 320, 240});
    out->set_sequence(sequence_++);
    out->set_capture_time_us(MonotonicNowUs());
    *frame = std::move(out);
    return CaptureResult::kSuccess;
  }
  Size screen_size() const override { return Size{320, 240}; }
  std::string_view name() const override { return "still"; }

 private:
  uint64_t sequence_ = 0;
};

TEST_CASE("A still screen gets one sharpening refresh, then nothing", "[app][session]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  CapturerFactory still = [](const CaptureOptions&) -> Expected<std::unique_ptr<ScreenCapturer>> {
    return std::unique_ptr<ScreenCapturer>(std::make_unique<StillCapturer>());
  };
  HostRunner host(SyntheticHost(), fixture, std::move(host_end), still);
  RawViewer viewer(std::move(viewer_end), fixture.viewer_id());
  REQUIRE(viewer.WaitForFrames(1, 10s) == 1);
  CHECK(viewer.frame(0).info.keyframe());
  viewer.Ack(viewer.frame(0).frame_id);
  REQUIRE(viewer.WaitForFrames(2, 10s) == 2);
  CHECK_FALSE(viewer.frame(1).info.keyframe());
  // The refresh waits for the screen to be still for a while.
  CHECK(viewer.frame(1).info.capture_time_us() - viewer.frame(0).info.capture_time_us() >= 250'000);
  viewer.Ack(viewer.frame(1).frame_id);
  std::this_thread::sleep_for(1s);
  CHECK(viewer.frame_count() == 2);
  host.Stop();
  CHECK(host.Join().ok());
  CHECK(host.session().stats().refreshes == 1);
  CHECK(host.session().stats().frames_encoded == 2);
}

// Like StillCapturer, but event-driven: it reports one change (the first frame) and then
// sleeps in WaitForChange, as the X11 DAMAGE capturer does on an idle screen.
class EventDrivenStillCapturer : public StillCapturer {
 public:
  explicit EventDrivenStillCapturer(std::atomic<int>* captures) : captures_(captures) {}
  bool WaitForChange(int timeout_ms) override {
    if (!reported_) {
      reported_ = true;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return false;
  }
  bool event_driven() const override { return true; }
  CaptureResult CaptureFrame(std::unique_ptr<Frame>* frame) override {
    ++*captures_;
    return StillCapturer::CaptureFrame(frame);
  }

 private:
  std::atomic<int>* captures_;
  bool reported_ = false;
};

TEST_CASE("An idle event-driven screen is captured once; refresh and keyframe reuse it",
          "[app][session]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  std::atomic<int> captures{0};
  CapturerFactory factory =
      [&captures](const CaptureOptions&) -> Expected<std::unique_ptr<ScreenCapturer>> {
    return std::unique_ptr<ScreenCapturer>(std::make_unique<EventDrivenStillCapturer>(&captures));
  };
  HostRunner host(SyntheticHost(), fixture, std::move(host_end), factory);
  RawViewer viewer(std::move(viewer_end), fixture.viewer_id());
  REQUIRE(viewer.WaitForFrames(1, 10s) == 1);
  CHECK(viewer.frame(0).info.keyframe());
  viewer.Ack(viewer.frame(0).frame_id);
  // The sharpening refresh comes without any new capture.
  REQUIRE(viewer.WaitForFrames(2, 10s) == 2);
  CHECK_FALSE(viewer.frame(1).info.keyframe());
  viewer.Ack(viewer.frame(1).frame_id);
  std::this_thread::sleep_for(500ms);
  CHECK(viewer.frame_count() == 2);
  // A keyframe request is answered from the last picture.
  wire::Envelope request;
  request.mutable_keyframe_request()->set_last_good_frame_id(viewer.frame(1).frame_id);
  viewer.channel().Send(request, SendPriority::kControl);
  REQUIRE(viewer.WaitForFrames(3, 10s) == 3);
  CHECK(viewer.frame(2).info.keyframe());
  viewer.Ack(viewer.frame(2).frame_id);
  host.Stop();
  CHECK(host.Join().ok());
  CHECK(captures.load() == 1);
  CHECK(host.session().stats().frames_captured == 1);
  CHECK(host.session().stats().refreshes == 1);
}

// A still screen whose pointer moves and, after a while, changes its picture.
class CursorCapturer : public StillCapturer {
 public:
  bool CaptureCursor(CursorState* state) override {
    ++calls_;
    state->x = 10 + calls_ % 50;
    state->y = 20;
    state->visible = true;
    const uint64_t serial = calls_ < 10 ? 1 : 2;
    state->shape_changed = serial != sent_serial_;
    if (state->shape_changed) {
      sent_serial_ = serial;
      state->shape = MakeShape(serial);
    }
    return true;
  }
  static CursorShape MakeShape(uint64_t serial) {
    CursorShape shape;
    shape.serial = serial;
    shape.size = Size{static_cast<int>(8 * serial), 16};
    shape.hotspot_x = 1;
    shape.hotspot_y = 2;
    shape.rgba.assign(static_cast<size_t>(shape.size.width) * 16 * 4,
                      static_cast<uint8_t>(serial * 40));
    return shape;
  }

 private:
  int calls_ = 0;
  uint64_t sent_serial_ = 0;
};

TEST_CASE("A cursor shape change reaches a headless viewer, apart from the video",
          "[app][session]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  CapturerFactory factory = [](const CaptureOptions&) -> Expected<std::unique_ptr<ScreenCapturer>> {
    return std::unique_ptr<ScreenCapturer>(std::make_unique<CursorCapturer>());
  };
  HostRunner host(SyntheticHost(), fixture, std::move(host_end), factory);
  ViewerSession viewer(ViewerOptionsFor(fixture), viewer_end.info, std::move(viewer_end.transport));
  REQUIRE(viewer.Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  RemoteCursor cursor;
  while (std::chrono::steady_clock::now() < deadline) {
    cursor = viewer.cursor();
    if (cursor.shape && cursor.shape->serial == 2)
      break;
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(cursor.shape);
  CHECK(cursor.shape->serial == 2);
  CHECK(cursor.shape_updates == 2);
  const CursorShape expected = CursorCapturer::MakeShape(2);
  CHECK(cursor.shape->size == expected.size);
  CHECK(cursor.shape->hotspot_x == 1);
  CHECK(cursor.shape->hotspot_y == 2);
  CHECK(cursor.shape->rgba == expected.rgba);
  CHECK(cursor.visible);
  CHECK(cursor.y == 20);
  CHECK_FALSE(viewer.closed());
  viewer.Stop();
  CHECK(host.Join().ok());
}

TEST_CASE("Protocol version mismatch is a clear error on both sides", "[app][session]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  HostRunner host(SyntheticHost(), fixture, std::move(host_end));
  ViewerOptions options = ViewerOptionsFor(fixture);
  options.protocol_version = 9;
  options.min_protocol_version = 7;
  ViewerSession viewer(options, viewer_end.info, std::move(viewer_end.transport));
  REQUIRE(viewer.Start().ok());
  REQUIRE(viewer.WaitClosed(10'000));
  const Error viewer_error = viewer.close_reason();
  CHECK((viewer_error.code == ErrorCode::kProtocolVersionMismatch ||
         viewer_error.code == ErrorCode::kPeerError));
  CHECK(viewer_error.ToString().find("protocol") != std::string::npos);
  Status host_result = host.Join();
  REQUIRE_FALSE(host_result.ok());
  CHECK((host_result.code() == ErrorCode::kProtocolVersionMismatch ||
         host_result.code() == ErrorCode::kPeerError));
  CHECK(viewer.last_frame() == nullptr);
}

TEST_CASE("A capture failure ends the session and tells the viewer why", "[app][session]") {
  HostSecurityFixture fixture;
  auto [host_end, viewer_end] = fixture.Connect();
  CapturerFactory failing = [](const CaptureOptions&) -> Expected<std::unique_ptr<ScreenCapturer>> {
    return Error{ErrorCode::kDisplayUnavailable, "cannot open X display ':99'"};
  };
  HostRunner host(SyntheticHost(), fixture, std::move(host_end), failing);
  ViewerSession viewer(ViewerOptionsFor(fixture), viewer_end.info, std::move(viewer_end.transport));
  REQUIRE(viewer.Start().ok());
  Status host_result = host.Join();
  REQUIRE_FALSE(host_result.ok());
  CHECK(host_result.code() == ErrorCode::kDisplayUnavailable);
  REQUIRE(viewer.WaitClosed(10'000));
  CHECK(viewer.close_reason().code == ErrorCode::kPeerError);
  CHECK(viewer.close_reason().ToString().find(":99") != std::string::npos);
}

}  // namespace
}  // namespace lifeline
