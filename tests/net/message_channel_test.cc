#include "net/message_channel.h"

#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "net/testing/transport_pair.h"
#include "net/video_chunks.h"
#include "tests/net/net_test_util.h"

namespace lifeline {
namespace {

using Bytes = std::vector<uint8_t>;
using test::kWaitMs;
using test::MakeHello;
using test::MakePing;
using test::RawPeer;
using test::RecordingDelegate;

Bytes Header(uint32_t length, uint16_t type, uint8_t version = 1, uint8_t flags = 0) {
  return {static_cast<uint8_t>(length >> 24),
          static_cast<uint8_t>(length >> 16),
          static_cast<uint8_t>(length >> 8),
          static_cast<uint8_t>(length),
          static_cast<uint8_t>(type >> 8),
          static_cast<uint8_t>(type),
          version,
          flags};
}

ChannelOptions Options(const std::string& app_version = "test") {
  ChannelOptions options;
  options.hello.set_app_version(app_version);
  return options;
}

wire::Envelope VideoChunkEnvelope(uint64_t frame_id, size_t bytes) {
  Bytes data(bytes, static_cast<uint8_t>(frame_id));
  wire::VideoFrameInfo info;
  info.set_width(64);
  info.set_height(64);
  return SplitIntoChunks(frame_id, info, data).front();
}

// A channel on one end of a transport pair and a hand-driven raw peer on the other, with
// the handshake done unless told otherwise.
struct ChannelAndRawPeer {
  RecordingDelegate delegate;
  std::unique_ptr<MessageChannel> channel;
  std::unique_ptr<RawPeer> peer;

  explicit ChannelAndRawPeer(ChannelOptions options = Options(),
                             bool handshake = true,
                             TransportPairOptions pair_options = {}) {
    auto [a, b] = CreateTransportPair(pair_options);
    channel = std::make_unique<MessageChannel>(std::move(a), std::move(options), &delegate);
    peer = std::make_unique<RawPeer>(std::move(b));
    channel->Start();
    if (handshake) {
      auto hello = peer->ReadMessage();
      REQUIRE(hello);
      REQUIRE(hello->has_hello());
      REQUIRE(peer->Send(MakeHello(kMinProtocolVersion, kProtocolVersion)));
      REQUIRE(delegate.WaitConnected());
    }
  }

  // Expects the channel to close with `code` after sending ErrorReport(`code`).
  void ExpectErrorClose(ErrorCode code) {
    REQUIRE(channel->WaitClosed(kWaitMs));
    CHECK(delegate.closed_reason().code == code);
    CHECK(delegate.closed_count() == 1);
    bool got_report = false;
    while (auto message = peer->ReadMessage()) {
      if (message->has_error()) {
        got_report = true;
        CHECK(message->error().code() == static_cast<uint32_t>(code));
        CHECK_FALSE(message->error().message().empty());
      }
    }
    CHECK(got_report);
    CHECK(peer->ended());
  }
};

TEST_CASE("MessageChannel: handshake, messages both ways, orderly close", "[channel]") {
  RecordingDelegate delegate_a;
  RecordingDelegate delegate_b;
  auto [a, b] = CreateTransportPair();
  ChannelOptions options_a = Options("host-app");
  options_a.hello.set_role(wire::ROLE_HOST);
  options_a.hello.add_video_codecs(1);
  MessageChannel channel_a(std::move(a), options_a, &delegate_a);
  MessageChannel channel_b(std::move(b), Options("viewer-app"), &delegate_b);
  CHECK(channel_a.peer_description() == "test peer B");
  channel_a.Start();
  channel_b.Start();
  REQUIRE(delegate_a.WaitConnected());
  REQUIRE(delegate_b.WaitConnected());
  const wire::Hello hello_from_a = *delegate_b.peer_hello();
  CHECK(hello_from_a.app_version() == "host-app");
  CHECK(hello_from_a.role() == wire::ROLE_HOST);
  CHECK(hello_from_a.protocol_version() == kProtocolVersion);
  CHECK(hello_from_a.min_protocol_version() == kMinProtocolVersion);
  CHECK(delegate_a.peer_hello()->app_version() == "viewer-app");

  constexpr int kCount = 500;
  for (int i = 0; i < kCount; ++i) {
    REQUIRE(channel_a.Send(MakePing(static_cast<uint64_t>(i)), SendPriority::kControl) ==
            SendResult::kOk);
  }
  wire::Envelope pong;
  pong.mutable_pong()->set_id(99);
  REQUIRE(channel_b.Send(pong, SendPriority::kControl) == SendResult::kOk);
  REQUIRE(delegate_b.WaitMessages(kCount));
  REQUIRE(delegate_a.WaitMessages(1));
  const auto received = delegate_b.messages();
  for (int i = 0; i < kCount; ++i) {
    REQUIRE(received[static_cast<size_t>(i)].has_ping());
    CHECK(received[static_cast<size_t>(i)].ping().id() == static_cast<uint64_t>(i));
  }
  CHECK(delegate_a.messages()[0].pong().id() == 99);

  channel_a.Close(Error{ErrorCode::kOk, "user ended the session"});
  CHECK(channel_a.Send(MakePing(1), SendPriority::kControl) == SendResult::kClosed);
  REQUIRE(channel_a.WaitClosed(kWaitMs));
  REQUIRE(channel_b.WaitClosed(kWaitMs));
  CHECK(channel_a.closed());
  CHECK(delegate_a.closed_reason().code == ErrorCode::kConnectionClosed);
  CHECK(delegate_b.closed_reason().code == ErrorCode::kConnectionClosed);
  CHECK_THAT(delegate_b.closed_reason().message, Catch::Contains("user ended the session"));
  CHECK(channel_a.bytes_sent() == channel_b.bytes_received());
  CHECK(channel_b.bytes_sent() == channel_a.bytes_received());
  CHECK(channel_a.bytes_sent() > kCount * 10);
  channel_a.Stop();
  channel_b.Stop();
  CHECK(delegate_a.closed_count() == 1);
  CHECK(delegate_b.closed_count() == 1);
  CHECK(delegate_a.connected_count() == 1);
}

TEST_CASE("MessageChannel: messages sent before Start follow our Hello", "[channel]") {
  RecordingDelegate delegate;
  auto [a, b] = CreateTransportPair();
  MessageChannel channel(std::move(a), Options(), &delegate);
  REQUIRE(channel.Send(MakePing(5), SendPriority::kControl) == SendResult::kOk);
  REQUIRE(channel.Send(VideoChunkEnvelope(1, 100), SendPriority::kVideo) == SendResult::kOk);
  CHECK(channel.queued_bytes() > 100);
  channel.Start();
  RawPeer peer(std::move(b));
  auto first = peer.ReadMessage();
  REQUIRE(first);
  CHECK(first->has_hello());
  auto second = peer.ReadMessage();
  REQUIRE(second);
  CHECK(second->ping().id() == 5);
  auto third = peer.ReadMessage();
  REQUIRE(third);
  CHECK(third->has_video_chunk());
  // The peer's Ping before its Hello would be a protocol error, after it is delivered.
  REQUIRE(peer.Send(MakeHello(kMinProtocolVersion, kProtocolVersion)));
  REQUIRE(peer.Send(MakePing(6)));
  REQUIRE(delegate.WaitMessages(1));
  CHECK(delegate.messages()[0].ping().id() == 6);
  CHECK(channel.queued_bytes() == 0);
}

TEST_CASE("MessageChannel: control messages overtake queued video", "[channel]") {
  // Small socket buffers and a peer that reads only after everything is queued: the
  // channel can have written only a few chunks when the Ping is queued, so with priority
  // the Ping arrives after a handful of chunks, without it after all of them.
  ChannelAndRawPeer setup(Options(), true, TransportPairOptions{.socket_buffer_bytes = 32 * 1024});
  constexpr int kChunks = 200;
  for (int i = 0; i < kChunks; ++i) {
    REQUIRE(setup.channel->Send(
                VideoChunkEnvelope(static_cast<uint64_t>(i + 1), kMaxVideoChunkDataBytes),
                SendPriority::kVideo) == SendResult::kOk);
  }
  REQUIRE(setup.channel->Send(MakePing(77), SendPriority::kControl) == SendResult::kOk);

  int video_before_ping = -1;
  int video_seen = 0;
  uint64_t last_frame_id = 0;
  while (video_seen < kChunks || video_before_ping < 0) {
    auto message = setup.peer->ReadMessage();
    REQUIRE(message);
    if (message->has_ping()) {
      CHECK(message->ping().id() == 77);
      video_before_ping = video_seen;
    } else {
      REQUIRE(message->has_video_chunk());
      // Video stays in order.
      CHECK(message->video_chunk().frame_id() == last_frame_id + 1);
      last_frame_id = message->video_chunk().frame_id();
      ++video_seen;
    }
  }
  INFO("video chunks before the ping: " << video_before_ping);
  CHECK(video_before_ping < kChunks / 4);
  CHECK(setup.channel->queued_bytes() == 0);
}

TEST_CASE("MessageChannel: a frame survives partial writes and reads", "[channel]") {
  RecordingDelegate delegate_a;
  RecordingDelegate delegate_b;
  auto [a, b] = CreateTransportPair();
  auto faulty_a = std::make_unique<FaultyTransport>(
      std::move(a), FaultOptions{.max_write_bytes = 1000, .max_read_bytes = 777});
  auto faulty_b =
      std::make_unique<FaultyTransport>(std::move(b), FaultOptions{.max_read_bytes = 333});
  MessageChannel channel_a(std::move(faulty_a), Options(), &delegate_a);
  MessageChannel channel_b(std::move(faulty_b), Options(), &delegate_b);

  ChunkAssembler assembler;  // Used on b's network thread only.
  std::vector<AssembledFrame> frames;
  int pings = 0;
  std::string assembly_error;
  delegate_b.on_message = [&](const wire::Envelope& message) {
    if (message.has_ping())
      ++pings;
    if (!message.has_video_chunk())
      return;
    auto result = assembler.Add(message.video_chunk());
    if (!result.ok()) {
      assembly_error = result.error().ToString();
    } else if (result->has_value()) {
      frames.push_back(std::move(**result));
    }
  };
  channel_a.Start();
  channel_b.Start();

  std::mt19937 rng(3);
  Bytes data(1000 * 1000);
  for (auto& byte : data)
    byte = static_cast<uint8_t>(rng());
  wire::VideoFrameInfo info;
  info.set_width(1280);
  const auto chunks = SplitIntoChunks(1, info, data);
  for (size_t i = 0; i < chunks.size(); ++i) {
    REQUIRE(channel_a.Send(chunks[i], SendPriority::kVideo) == SendResult::kOk);
    REQUIRE(channel_a.Send(MakePing(i), SendPriority::kControl) == SendResult::kOk);
  }
  REQUIRE(delegate_b.WaitMessages(2 * chunks.size()));
  channel_a.Close(Error{ErrorCode::kOk, "done"});
  REQUIRE(channel_b.WaitClosed(kWaitMs));
  channel_b.Stop();  // Joins b's thread: `frames` is safe to read now.
  CHECK(assembly_error.empty());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].data == data);
  CHECK(frames[0].info.width() == 1280);
  CHECK(pings == static_cast<int>(chunks.size()));
}

TEST_CASE("MessageChannel: version mismatch is explained on both sides", "[channel]") {
  RecordingDelegate delegate_old;
  RecordingDelegate delegate_new;
  auto [a, b] = CreateTransportPair();
  ChannelOptions old_options = Options();
  old_options.protocol_version = 1;
  old_options.min_protocol_version = 1;
  ChannelOptions new_options = Options();
  new_options.protocol_version = 3;
  new_options.min_protocol_version = 2;  // Explicit ranges: independent of the current version.
  MessageChannel old_channel(std::move(a), old_options, &delegate_old);
  MessageChannel new_channel(std::move(b), new_options, &delegate_new);
  old_channel.Start();
  new_channel.Start();
  REQUIRE(old_channel.WaitClosed(kWaitMs));
  REQUIRE(new_channel.WaitClosed(kWaitMs));
  const Error old_reason = delegate_old.closed_reason();
  const Error new_reason = delegate_new.closed_reason();
  CHECK(old_reason.code == ErrorCode::kProtocolVersionMismatch);
  CHECK(new_reason.code == ErrorCode::kProtocolVersionMismatch);
  CHECK_THAT(old_reason.message, Catch::Contains("speaks protocol 2..3, we speak 1..1"));
  CHECK_THAT(new_reason.message, Catch::Contains("speaks protocol 1..1, we speak 2..3"));
  CHECK(delegate_old.connected_count() == 0);
  CHECK(delegate_new.connected_count() == 0);
}

TEST_CASE("MessageChannel: the peer learns why its Hello was refused", "[channel]") {
  ChannelAndRawPeer setup(Options(), false);
  auto hello = setup.peer->ReadMessage();
  REQUIRE(hello);
  REQUIRE(setup.peer->Send(MakeHello(5, 7)));
  auto report = setup.peer->ReadMessage();
  REQUIRE(report);
  REQUIRE(report->has_error());
  CHECK(report->error().code() == static_cast<uint32_t>(ErrorCode::kProtocolVersionMismatch));
  CHECK_THAT(report->error().message(),
             Catch::Contains("5..7") && Catch::Contains(std::to_string(kMinProtocolVersion) + ".." +
                                                        std::to_string(kProtocolVersion)));
  CHECK(setup.peer->WaitForEnd());
  REQUIRE(setup.channel->WaitClosed(kWaitMs));
  CHECK(setup.delegate.closed_reason().code == ErrorCode::kProtocolVersionMismatch);
}

TEST_CASE("MessageChannel: bad input from a raw peer closes cleanly", "[channel]") {
  SECTION("oversized length") {
    ChannelAndRawPeer setup;
    REQUIRE(setup.peer->WriteAll(Header(0x40000000, 16)));
    setup.ExpectErrorClose(ErrorCode::kMessageTooLarge);
    CHECK_THAT(setup.delegate.closed_reason().message, Catch::Contains("1073741824"));
  }
  SECTION("unknown type") {
    ChannelAndRawPeer setup;
    REQUIRE(setup.peer->WriteAll(Header(1, 200)));
    setup.ExpectErrorClose(ErrorCode::kUnknownMessageType);
  }
  SECTION("bad envelope version") {
    ChannelAndRawPeer setup;
    REQUIRE(setup.peer->WriteAll(Header(1, 4, 9)));
    setup.ExpectErrorClose(ErrorCode::kMalformedMessage);
  }
  SECTION("type and payload disagree") {
    ChannelAndRawPeer setup;
    Bytes bytes = test::Encode(MakePing(1));
    bytes[5] = 17;  // Announced as FrameAck.
    REQUIRE(setup.peer->WriteAll(bytes));
    setup.ExpectErrorClose(ErrorCode::kMalformedMessage);
  }
  SECTION("garbage before Hello") {
    ChannelAndRawPeer setup(Options(), false);
    std::mt19937 rng(11);
    Bytes garbage(4096);
    for (auto& byte : garbage)
      byte = static_cast<uint8_t>(rng());
    garbage[6] = 0x55;  // Never a valid version byte.
    REQUIRE(setup.peer->WriteAll(garbage));
    REQUIRE(setup.channel->WaitClosed(kWaitMs));
    const ErrorCode code = setup.delegate.closed_reason().code;
    CHECK((code == ErrorCode::kMalformedMessage || code == ErrorCode::kUnknownMessageType ||
           code == ErrorCode::kMessageTooLarge));
    CHECK(setup.delegate.connected_count() == 0);
  }
  SECTION("random bytes after the handshake, many seeds") {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
      INFO("seed " << seed);
      ChannelAndRawPeer setup;
      std::mt19937 rng(seed);
      Bytes garbage(1 + rng() % 3000);
      for (auto& byte : garbage)
        byte = static_cast<uint8_t>(rng());
      REQUIRE(setup.peer->WriteAll(garbage));
      // A random prefix may be a valid header waiting for more bytes: end the stream so
      // that every input leads to a close.
      setup.peer->transport().Shutdown();
      REQUIRE(setup.channel->WaitClosed(kWaitMs));
      CHECK(setup.delegate.closed_count() == 1);
      CHECK(setup.delegate.closed_reason().code != ErrorCode::kOk);
    }
  }
  SECTION("message cut off by end of stream") {
    ChannelAndRawPeer setup;
    const Bytes ping = test::Encode(MakePing(1));
    REQUIRE(setup.peer->WriteAll(std::span<const uint8_t>(ping).first(ping.size() - 2)));
    setup.peer->transport().Shutdown();
    REQUIRE(setup.channel->WaitClosed(kWaitMs));
    CHECK(setup.delegate.closed_reason().code == ErrorCode::kConnectionClosed);
    CHECK_THAT(setup.delegate.closed_reason().message, Catch::Contains("middle of a message"));
    CHECK(setup.delegate.messages().empty());
  }
  SECTION("a message before Hello") {
    ChannelAndRawPeer setup(Options(), false);
    REQUIRE(setup.peer->Send(MakePing(1)));
    setup.ExpectErrorClose(ErrorCode::kUnexpectedMessage);
    CHECK(setup.delegate.messages().empty());
  }
  SECTION("a second Hello") {
    ChannelAndRawPeer setup;
    REQUIRE(setup.peer->Send(MakeHello(kMinProtocolVersion, kProtocolVersion)));
    setup.ExpectErrorClose(ErrorCode::kUnexpectedMessage);
  }
}

TEST_CASE("MessageChannel: a large burst from the peer is read completely", "[channel]") {
  ChannelAndRawPeer setup;
  constexpr int kCount = 20000;
  Bytes burst;
  for (int i = 0; i < kCount; ++i) {
    const Bytes ping = test::Encode(MakePing(static_cast<uint64_t>(i)));
    burst.insert(burst.end(), ping.begin(), ping.end());
  }
  REQUIRE(setup.peer->WriteAll(burst));
  REQUIRE(setup.delegate.WaitMessages(kCount));
  CHECK(setup.delegate.messages().back().ping().id() == kCount - 1);
  CHECK(setup.channel->bytes_received() >= burst.size());
}

TEST_CASE("MessageChannel: a full send queue closes the channel", "[channel]") {
  ChannelOptions options = Options();
  options.handshake_timeout_ms = 60'000;
  SECTION("video") {
    options.max_video_bytes = 64 * 1024;
    // The peer never reads: socket buffers fill, then the queue.
    ChannelAndRawPeer setup(options, false, TransportPairOptions{.socket_buffer_bytes = 16 * 1024});
    SendResult result = SendResult::kOk;
    for (int i = 0; i < 100'000 && result == SendResult::kOk; ++i) {
      result = setup.channel->Send(VideoChunkEnvelope(static_cast<uint64_t>(i + 1), 8000),
                                   SendPriority::kVideo);
    }
    CHECK(result == SendResult::kQueueFull);
    CHECK(setup.channel->Send(MakePing(1), SendPriority::kControl) == SendResult::kClosed);
    REQUIRE(setup.channel->WaitClosed(kWaitMs));
    CHECK(setup.delegate.closed_reason().code == ErrorCode::kSendQueueFull);
    CHECK_THAT(setup.delegate.closed_reason().message, Catch::Contains("test peer B"));
  }
  SECTION("control") {
    options.max_control_messages = 8;
    ChannelAndRawPeer setup(options, false, TransportPairOptions{.socket_buffer_bytes = 16 * 1024});
    SendResult result = SendResult::kOk;
    for (int i = 0; i < 1'000'000 && result == SendResult::kOk; ++i) {
      result = setup.channel->Send(MakePing(static_cast<uint64_t>(i)), SendPriority::kControl);
    }
    CHECK(result == SendResult::kQueueFull);
    REQUIRE(setup.channel->WaitClosed(kWaitMs));
    CHECK(setup.delegate.closed_reason().code == ErrorCode::kSendQueueFull);
  }
}

TEST_CASE("MessageChannel: Close gives up flushing after about a second", "[channel]") {
  RecordingDelegate delegate;
  auto [a, b] = CreateTransportPair(TransportPairOptions{.socket_buffer_bytes = 16 * 1024});
  // Fill the channel's outgoing socket buffer first; the peer never reads.
  const Bytes filler(4096, 0);
  while (a->Write(filler).status == IoStatus::kOk) {
  }
  MessageChannel channel(std::move(a), Options(), &delegate);
  channel.Start();
  REQUIRE(channel.Send(MakePing(1), SendPriority::kControl) == SendResult::kOk);
  const int64_t start = MonotonicNowUs();
  channel.Close(Error{ErrorCode::kOk, "bye"});
  REQUIRE(channel.WaitClosed(kWaitMs));
  CHECK(MonotonicNowUs() - start >= 900'000);
  CHECK(delegate.closed_reason().code == ErrorCode::kConnectionClosed);
}

TEST_CASE("MessageChannel: a peer's ErrorReport becomes kPeerError", "[channel]") {
  SECTION("between two channels") {
    RecordingDelegate delegate_a;
    RecordingDelegate delegate_b;
    auto [a, b] = CreateTransportPair();
    MessageChannel channel_a(std::move(a), Options(), &delegate_a);
    MessageChannel channel_b(std::move(b), Options(), &delegate_b);
    channel_a.Start();
    channel_b.Start();
    REQUIRE(delegate_a.WaitConnected());
    REQUIRE(delegate_b.WaitConnected());
    channel_a.Close(Error{ErrorCode::kDecodeFailed, "decoder broke on frame 12"});
    REQUIRE(channel_a.WaitClosed(kWaitMs));
    REQUIRE(channel_b.WaitClosed(kWaitMs));
    CHECK(delegate_a.closed_reason().code == ErrorCode::kDecodeFailed);
    const Error reason = delegate_b.closed_reason();
    CHECK(reason.code == ErrorCode::kPeerError);
    CHECK_THAT(reason.message, Catch::Contains("decoder broke on frame 12") &&
                                   Catch::Contains("E403") && Catch::Contains("test peer A"));
  }
  SECTION("unknown code and hostile text from a raw peer") {
    ChannelAndRawPeer setup;
    wire::Envelope report;
    report.mutable_error()->set_code(9999);
    report.mutable_error()->set_message("evil\x1b[2Jtext\n" + std::string(1500, 'z'));
    REQUIRE(setup.peer->Send(report));
    REQUIRE(setup.channel->WaitClosed(kWaitMs));
    const Error reason = setup.delegate.closed_reason();
    CHECK(reason.code == ErrorCode::kPeerError);
    CHECK_THAT(reason.message, Catch::Contains("unknown error code 9999"));
    CHECK(reason.message.find('\x1b') == std::string::npos);
    CHECK(reason.message.find('\n') == std::string::npos);
    CHECK(reason.message.size() < 600);
    CHECK(setup.peer->WaitForEnd());
  }
  SECTION("Goodbye from a raw peer") {
    ChannelAndRawPeer setup;
    wire::Envelope goodbye;
    goodbye.mutable_goodbye()->set_reason("see you");
    REQUIRE(setup.peer->Send(goodbye));
    REQUIRE(setup.channel->WaitClosed(kWaitMs));
    CHECK(setup.delegate.closed_reason().code == ErrorCode::kConnectionClosed);
    CHECK_THAT(setup.delegate.closed_reason().message, Catch::Contains("see you"));
  }
  SECTION("end of stream without Goodbye") {
    ChannelAndRawPeer setup;
    setup.peer->transport().Shutdown();
    REQUIRE(setup.channel->WaitClosed(kWaitMs));
    CHECK(setup.delegate.closed_reason().code == ErrorCode::kConnectionClosed);
  }
}

TEST_CASE("MessageChannel: handshake timeout", "[channel]") {
  ChannelOptions options = Options();
  options.handshake_timeout_ms = 200;
  ChannelAndRawPeer setup(options, false);
  REQUIRE(setup.channel->WaitClosed(kWaitMs));
  CHECK(setup.delegate.closed_reason().code == ErrorCode::kConnectionTimedOut);
  CHECK_THAT(setup.delegate.closed_reason().message, Catch::Contains("200 ms"));
  auto hello = setup.peer->ReadMessage();
  REQUIRE(hello);
  CHECK(hello->has_hello());
  auto report = setup.peer->ReadMessage();
  REQUIRE(report);
  CHECK(report->error().code() == static_cast<uint32_t>(ErrorCode::kConnectionTimedOut));
}

TEST_CASE("MessageChannel: Close from inside a callback", "[channel]") {
  ChannelAndRawPeer setup;
  MessageChannel* channel = setup.channel.get();
  setup.delegate.on_message = [channel](const wire::Envelope& message) {
    if (message.ping().id() == 2)
      channel->Close(Error{ErrorCode::kOk, "closing from callback"});
    // Sending from a callback after closing is refused, not a deadlock.
    channel->Send(MakePing(100), SendPriority::kControl);
  };
  // One write: once the channel has closed, later writes from the peer would fail.
  Bytes pings;
  for (uint64_t id = 1; id <= 5; ++id) {
    const Bytes ping = test::Encode(MakePing(id));
    pings.insert(pings.end(), ping.begin(), ping.end());
  }
  REQUIRE(setup.peer->WriteAll(pings));
  REQUIRE(setup.channel->WaitClosed(kWaitMs));
  CHECK(setup.delegate.closed_reason().code == ErrorCode::kConnectionClosed);
  // Messages after the one that closed are dropped.
  CHECK(setup.delegate.messages().size() == 2);
  bool got_goodbye = false;
  while (auto message = setup.peer->ReadMessage()) {
    if (message->has_goodbye()) {
      got_goodbye = true;
      CHECK(message->goodbye().reason() == "closing from callback");
    }
  }
  CHECK(got_goodbye);
}

TEST_CASE("MessageChannel: write failures close with the transport's error", "[channel]") {
  RecordingDelegate delegate;
  auto [a, b] = CreateTransportPair();
  auto faulty =
      std::make_unique<FaultyTransport>(std::move(a), FaultOptions{.fail_writes_after_bytes = 100});
  MessageChannel channel(std::move(faulty), Options(), &delegate);
  RawPeer peer(std::move(b));
  channel.Start();
  for (uint64_t i = 0; i < 50; ++i) {
    if (channel.Send(MakePing(i), SendPriority::kControl) != SendResult::kOk)
      break;
  }
  REQUIRE(channel.WaitClosed(kWaitMs));
  CHECK(delegate.closed_reason().code == ErrorCode::kNetworkIo);
  CHECK_THAT(delegate.closed_reason().message, Catch::Contains("injected"));
}

TEST_CASE("MessageChannel: Stop and lifetime", "[channel]") {
  SECTION("never started: Stop reports kCancelled once") {
    RecordingDelegate delegate;
    auto [a, b] = CreateTransportPair();
    {
      MessageChannel channel(std::move(a), Options(), &delegate);
      channel.Stop();
      CHECK(channel.closed());
      CHECK(channel.WaitClosed(0));
      CHECK(channel.Send(MakePing(1), SendPriority::kControl) == SendResult::kClosed);
      channel.Start();  // Does nothing.
      channel.Stop();
    }
    CHECK(delegate.closed_count() == 1);
    CHECK(delegate.closed_reason().code == ErrorCode::kCancelled);
  }
  SECTION("never started: the destructor is enough") {
    RecordingDelegate delegate;
    auto [a, b] = CreateTransportPair();
    { MessageChannel channel(std::move(a), Options(), &delegate); }
    CHECK(delegate.closed_count() == 1);
  }
  SECTION("Stop while connected tells the peer") {
    RecordingDelegate delegate_a;
    RecordingDelegate delegate_b;
    auto [a, b] = CreateTransportPair();
    MessageChannel channel_b(std::move(b), Options(), &delegate_b);
    channel_b.Start();
    {
      MessageChannel channel_a(std::move(a), Options(), &delegate_a);
      channel_a.Start();
      REQUIRE(delegate_a.WaitConnected());
      channel_a.Stop();
      CHECK(channel_a.closed());
      CHECK(delegate_a.closed_reason().code == ErrorCode::kCancelled);
    }
    REQUIRE(channel_b.WaitClosed(kWaitMs));
    CHECK(delegate_b.closed_reason().code == ErrorCode::kPeerError);
    CHECK(delegate_a.closed_count() == 1);
  }
  SECTION("Close before Start still sends Hello then Goodbye") {
    RecordingDelegate delegate;
    auto [a, b] = CreateTransportPair();
    MessageChannel channel(std::move(a), Options(), &delegate);
    RawPeer peer(std::move(b));
    channel.Close(Error{ErrorCode::kOk, "changed my mind"});
    channel.Start();
    REQUIRE(channel.WaitClosed(kWaitMs));
    CHECK(delegate.closed_reason().code == ErrorCode::kConnectionClosed);
    auto hello = peer.ReadMessage();
    REQUIRE(hello);
    CHECK(hello->has_hello());
    auto goodbye = peer.ReadMessage();
    REQUIRE(goodbye);
    CHECK(goodbye->goodbye().reason() == "changed my mind");
  }
  SECTION("sending an invalid message closes the channel") {
    ChannelAndRawPeer setup;
    CHECK(setup.channel->Send(wire::Envelope(), SendPriority::kControl) == SendResult::kClosed);
    setup.ExpectErrorClose(ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace lifeline
