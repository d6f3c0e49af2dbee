#include "net/video_chunks.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "net/framing.h"

namespace lifeline {
namespace {

using Bytes = std::vector<uint8_t>;

wire::VideoFrameInfo Info(uint32_t width = 640, uint32_t height = 480, bool keyframe = true) {
  wire::VideoFrameInfo info;
  info.set_codec(1);
  info.set_width(width);
  info.set_height(height);
  info.set_keyframe(keyframe);
  info.set_capture_time_us(123456789);
  return info;
}

Bytes RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(size);
  for (auto& b : out)
    b = static_cast<uint8_t>(rng());
  return out;
}

wire::VideoChunk Chunk(uint64_t frame_id,
                       uint32_t offset,
                       uint32_t total,
                       size_t data_bytes,
                       bool with_info) {
  wire::VideoChunk chunk;
  chunk.set_frame_id(frame_id);
  chunk.set_offset(offset);
  chunk.set_total_size(total);
  chunk.set_data(std::string(data_bytes, 'x'));
  if (with_info)
    *chunk.mutable_info() = Info();
  return chunk;
}

TEST_CASE("SplitIntoChunks cuts at kMaxVideoChunkDataBytes", "[video_chunks]") {
  CHECK(SplitIntoChunks(1, Info(), {}).empty());

  const Bytes data = RandomBytes(2 * kMaxVideoChunkDataBytes + 5, 1);
  const auto chunks = SplitIntoChunks(9, Info(), data);
  REQUIRE(chunks.size() == 3);
  size_t offset = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    INFO("chunk " << i);
    REQUIRE(chunks[i].has_video_chunk());
    const wire::VideoChunk& chunk = chunks[i].video_chunk();
    CHECK(chunk.frame_id() == 9);
    CHECK(chunk.offset() == offset);
    CHECK(chunk.total_size() == data.size());
    CHECK(chunk.has_info() == (i == 0));
    CHECK(chunk.data().size() <= kMaxVideoChunkDataBytes);
    offset += chunk.data().size();
    // Every chunk fits the wire limit for its type.
    CHECK(EncodeEnvelope(chunks[i]).ok());
  }
  CHECK(offset == data.size());
  CHECK(chunks[2].video_chunk().data().size() == 5);
}

TEST_CASE("ChunkAssembler round-trips a 100 KB frame and a 1-byte frame", "[video_chunks]") {
  ChunkAssembler assembler;
  const Bytes data = RandomBytes(100 * 1000, 2);
  const auto chunks = SplitIntoChunks(5, Info(1920, 1080), data);
  REQUIRE(chunks.size() == 7);
  for (size_t i = 0; i < chunks.size(); ++i) {
    auto result = assembler.Add(chunks[i].video_chunk());
    REQUIRE(result.ok());
    if (i + 1 < chunks.size()) {
      CHECK_FALSE(result->has_value());
    } else {
      REQUIRE(result->has_value());
      const AssembledFrame& frame = **result;
      CHECK(frame.frame_id == 5);
      CHECK(frame.info.width() == 1920);
      CHECK(frame.info.height() == 1080);
      CHECK(frame.info.capture_time_us() == 123456789);
      CHECK(frame.data == data);
    }
  }
  const Bytes tiny = {42};
  auto tiny_chunks = SplitIntoChunks(6, Info(), tiny);
  REQUIRE(tiny_chunks.size() == 1);
  auto result = assembler.Add(tiny_chunks[0].video_chunk());
  REQUIRE(result.ok());
  REQUIRE(result->has_value());
  CHECK((*result)->data == tiny);
}

TEST_CASE("ChunkAssembler enforces the chunk rules", "[video_chunks]") {
  ChunkAssembler assembler;
  auto expect_error = [&](const wire::VideoChunk& chunk, ErrorCode code) {
    auto result = assembler.Add(chunk);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == code);
    CHECK_FALSE(result.error().message.empty());
  };
  auto expect_more = [&](const wire::VideoChunk& chunk) {
    auto result = assembler.Add(chunk);
    REQUIRE(result.ok());
    CHECK_FALSE(result->has_value());
  };

  SECTION("first chunk not at offset 0") {
    expect_error(Chunk(1, 10, 100, 10, true), ErrorCode::kMalformedMessage);
  }
  SECTION("first chunk without info") {
    expect_error(Chunk(1, 0, 100, 10, false), ErrorCode::kMalformedMessage);
  }
  SECTION("total size 0") {
    expect_error(Chunk(1, 0, 0, 0, true), ErrorCode::kMalformedMessage);
  }
  SECTION("total size above the limit") {
    expect_error(Chunk(1, 0, kMaxEncodedFrameBytes + 1, 10, true), ErrorCode::kMessageTooLarge);
    expect_error(Chunk(1, 0, UINT32_MAX, 10, true), ErrorCode::kMessageTooLarge);
  }
  SECTION("total size at the limit is fine") {
    expect_more(Chunk(1, 0, kMaxEncodedFrameBytes, 10, true));
  }
  SECTION("empty first chunk") {
    expect_error(Chunk(1, 0, 100, 0, true), ErrorCode::kMalformedMessage);
  }
  SECTION("first chunk larger than the total") {
    expect_error(Chunk(1, 0, 5, 10, true), ErrorCode::kMalformedMessage);
  }
  SECTION("interleaved frames") {
    expect_more(Chunk(1, 0, 100, 10, true));
    expect_error(Chunk(2, 0, 100, 10, true), ErrorCode::kMalformedMessage);
  }
  SECTION("total size changes") {
    expect_more(Chunk(1, 0, 100, 10, true));
    expect_error(Chunk(1, 10, 101, 10, false), ErrorCode::kMalformedMessage);
  }
  SECTION("gap") {
    expect_more(Chunk(1, 0, 100, 10, true));
    expect_error(Chunk(1, 11, 100, 10, false), ErrorCode::kMalformedMessage);
  }
  SECTION("overlap") {
    expect_more(Chunk(1, 0, 100, 10, true));
    expect_error(Chunk(1, 5, 100, 10, false), ErrorCode::kMalformedMessage);
  }
  SECTION("empty later chunk") {
    expect_more(Chunk(1, 0, 100, 10, true));
    expect_error(Chunk(1, 10, 100, 0, false), ErrorCode::kMalformedMessage);
  }
  SECTION("beyond the total") {
    expect_more(Chunk(1, 0, 100, 95, true));
    expect_error(Chunk(1, 95, 100, 10, false), ErrorCode::kMalformedMessage);
  }
  SECTION("frame ids must increase") {
    auto done = assembler.Add(Chunk(7, 0, 10, 10, true));
    REQUIRE(done.ok());
    REQUIRE(done->has_value());
    expect_error(Chunk(7, 0, 10, 10, true), ErrorCode::kMalformedMessage);
    expect_error(Chunk(3, 0, 10, 10, true), ErrorCode::kMalformedMessage);
    auto next = assembler.Add(Chunk(8, 0, 10, 10, true));
    REQUIRE(next.ok());
    CHECK(next->has_value());
  }
  SECTION("a later chunk repeating the info is accepted") {
    expect_more(Chunk(1, 0, 20, 10, true));
    auto done = assembler.Add(Chunk(1, 10, 20, 10, true));
    REQUIRE(done.ok());
    CHECK(done->has_value());
  }
}

}  // namespace
}  // namespace lifeline
