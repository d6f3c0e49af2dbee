// Input never waits behind video: a key press from the viewer reaches the host while the
// host still has most of a large video backlog queued towards that viewer, and a key
// press queued behind video on the same side overtakes it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "net/message_channel.h"
#include "net/testing/transport_pair.h"
#include "net/video_chunks.h"
#include "tests/net/net_test_util.h"

namespace lifeline {
namespace {

using test::RecordingDelegate;

wire::Envelope Chunk(uint64_t frame_id) {
  std::vector<uint8_t> data(kMaxVideoChunkDataBytes, static_cast<uint8_t>(frame_id));
  wire::VideoFrameInfo info;
  info.set_width(64);
  info.set_height(64);
  return SplitIntoChunks(frame_id, info, data).front();
}

wire::Envelope KeyPress(uint32_t keysym) {
  wire::Envelope key;
  key.mutable_key_event()->set_keysym(keysym);
  key.mutable_key_event()->set_pressed(true);
  return key;
}

TEST_CASE("Input: a key press reaches the host ahead of its pending video", "[net][input]") {
  auto [host_transport, viewer_transport] =
      CreateTransportPair(TransportPairOptions{.socket_buffer_bytes = 32 * 1024});
  RecordingDelegate host_delegate;
  RecordingDelegate viewer_delegate;
  // A slow viewer: 2 ms per chunk, so the host's backlog drains slowly.
  std::atomic<int> chunks_seen{0};
  viewer_delegate.on_message = [&](const wire::Envelope& m) {
    if (m.has_video_chunk()) {
      ++chunks_seen;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  MessageChannel host(std::move(host_transport), ChannelOptions{}, &host_delegate);
  MessageChannel viewer(std::move(viewer_transport), ChannelOptions{}, &viewer_delegate);
  std::atomic<size_t> host_backlog_at_key{0};
  std::atomic<int> chunks_seen_at_key{-1};
  host_delegate.on_message = [&](const wire::Envelope& m) {
    if (m.has_key_event()) {
      host_backlog_at_key = host.queued_bytes();
      chunks_seen_at_key = chunks_seen.load();
    }
  };
  host.Start();
  viewer.Start();
  REQUIRE(host_delegate.WaitConnected());
  REQUIRE(viewer_delegate.WaitConnected());

  constexpr int kChunks = 200;  // 3.2 MB of video: ~400 ms for this viewer.
  for (int i = 0; i < kChunks; ++i)
    REQUIRE(host.Send(Chunk(static_cast<uint64_t>(i + 1)), SendPriority::kVideo) ==
            SendResult::kOk);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  REQUIRE(viewer.Send(KeyPress('k'), SendPriority::kControl) == SendResult::kOk);
  REQUIRE(host_delegate.WaitMessages(1));
  INFO("video bytes still queued on the host when the key arrived: " << host_backlog_at_key);
  INFO("chunks the viewer had processed: " << chunks_seen_at_key);
  CHECK(host_delegate.messages().front().key_event().keysym() == 'k');
  CHECK(chunks_seen_at_key < kChunks / 2);
  CHECK(host_backlog_at_key > kChunks / 2 * kMaxVideoChunkDataBytes);
  host.Stop();
  viewer.Stop();
}

TEST_CASE("Input: a key press queued after video on one side goes out first", "[net][input]") {
  auto [a, b] = CreateTransportPair(TransportPairOptions{.socket_buffer_bytes = 32 * 1024});
  RecordingDelegate sender_delegate;
  RecordingDelegate receiver_delegate;
  MessageChannel sender(std::move(a), ChannelOptions{}, &sender_delegate);
  MessageChannel receiver(std::move(b), ChannelOptions{}, &receiver_delegate);
  sender.Start();
  constexpr int kChunks = 100;
  for (int i = 0; i < kChunks; ++i)
    REQUIRE(sender.Send(Chunk(static_cast<uint64_t>(i + 1)), SendPriority::kVideo) ==
            SendResult::kOk);
  REQUIRE(sender.Send(KeyPress('x'), SendPriority::kControl) == SendResult::kOk);
  receiver.Start();
  REQUIRE(receiver_delegate.WaitMessages(kChunks + 1));
  const auto messages = receiver_delegate.messages();
  int index_of_key = -1;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].has_key_event())
      index_of_key = static_cast<int>(i);
  }
  INFO("chunks before the key: " << index_of_key);
  REQUIRE(index_of_key >= 0);
  CHECK(index_of_key < kChunks / 4);
  sender.Stop();
  receiver.Stop();
}

}  // namespace
}  // namespace lifeline
