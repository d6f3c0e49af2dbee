#include "net/framing.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <vector>

#include "tests/net/net_test_util.h"

namespace lifeline {
namespace {

using Bytes = std::vector<uint8_t>;
using Result = FrameReader::Result;

wire::Envelope GoldenHello() {
  wire::Envelope envelope;
  wire::Hello* hello = envelope.mutable_hello();
  hello->set_protocol_version(1);
  hello->set_min_protocol_version(1);
  hello->set_app_version("0.1.0");
  hello->set_role(wire::ROLE_HOST);
  hello->add_video_codecs(1);
  return envelope;
}

// The wire format of GoldenHello(), byte by byte. If this test fails, the protocol changed:
// that needs a new protocol version, not a new golden array.
const Bytes kGoldenHelloBytes = {
    0x00, 0x00, 0x00, 0x12,       // Body length 18, big-endian.
    0x00, 0x01,                   // Type 1 = Envelope.hello, big-endian.
    0x01,                         // Envelope version 1.
    0x00,                         // Flags 0.
    0x0a, 0x10,                   // Envelope field 1 (hello), length-delimited, 16 bytes.
    0x08, 0x01,                   //   Hello.protocol_version = 1.
    0x10, 0x01,                   //   Hello.min_protocol_version = 1.
    0x1a, 0x05,                   //   Hello.app_version, 5 bytes:
    '0',  '.',  '1',  '.',  '0',  //     "0.1.0".
    0x20, 0x01,                   //   Hello.role = ROLE_HOST.
    0x2a, 0x01, 0x01,             //   Hello.video_codecs = [1], packed, 1 byte.
};

// Ping{id 7, sender_time_us 1000}.
const Bytes kGoldenPingBytes = {
    0x00, 0x00, 0x00, 0x07,  // Body length 7.
    0x00, 0x04,              // Type 4 = Envelope.ping.
    0x01, 0x00,              // Version 1, flags 0.
    0x22, 0x05,              // Envelope field 4 (ping), 5 bytes.
    0x08, 0x07,              //   Ping.id = 7.
    0x10, 0xe8, 0x07,        //   Ping.sender_time_us = 1000 (varint e8 07).
};

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

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Feeds all of `bytes` at once; returns the result of the last Read.
Result FeedAll(FrameReader& reader, const Bytes& bytes, wire::Envelope* out) {
  std::span<const uint8_t> input(bytes);
  Result result = Result::kNeedMore;
  do {
    result = reader.Read(&input, out);
  } while (result == Result::kMessage && !input.empty());
  return result;
}

TEST_CASE("EncodeEnvelope writes the documented golden bytes for Hello", "[framing]") {
  auto encoded = EncodeEnvelope(GoldenHello());
  REQUIRE(encoded.ok());
  CHECK(*encoded == kGoldenHelloBytes);

  wire::Envelope ping;
  ping.mutable_ping()->set_id(7);
  ping.mutable_ping()->set_sender_time_us(1000);
  auto encoded_ping = EncodeEnvelope(ping);
  REQUIRE(encoded_ping.ok());
  CHECK(*encoded_ping == kGoldenPingBytes);
}

TEST_CASE("FrameReader decodes the golden bytes back", "[framing]") {
  FrameReader reader;
  std::span<const uint8_t> input(kGoldenHelloBytes);
  wire::Envelope out;
  REQUIRE(reader.Read(&input, &out) == Result::kMessage);
  CHECK(input.empty());
  REQUIRE(out.has_hello());
  CHECK(out.hello().protocol_version() == 1);
  CHECK(out.hello().min_protocol_version() == 1);
  CHECK(out.hello().app_version() == "0.1.0");
  CHECK(out.hello().role() == wire::ROLE_HOST);
  REQUIRE(out.hello().video_codecs_size() == 1);
  CHECK(out.hello().video_codecs(0) == 1);
  CHECK(reader.buffered_bytes() == 0);
}

TEST_CASE("MaxBodyBytes has a limit per known type and 0 otherwise", "[framing]") {
  CHECK(MaxBodyBytes(1) == 1024);
  CHECK(MaxBodyBytes(2) == 2048);
  CHECK(MaxBodyBytes(3) == 1024);
  CHECK(MaxBodyBytes(4) == 64);
  CHECK(MaxBodyBytes(5) == 64);
  for (uint32_t type = 6; type <= 11; ++type) {  // Authentication messages: small.
    INFO("type " << type);
    CHECK(MaxBodyBytes(type) > 0);
    CHECK(MaxBodyBytes(type) <= 160);
  }
  CHECK(MaxBodyBytes(16) == kMaxVideoChunkDataBytes + 256);
  CHECK(MaxBodyBytes(17) == 64);
  CHECK(MaxBodyBytes(18) == 64);
  CHECK(MaxBodyBytes(19) == kMaxCursorSide * kMaxCursorSide * 4 + 64);  // CursorShape.
  CHECK(MaxBodyBytes(20) == 64);                                        // CursorPosition.
  for (uint32_t type : {0u, 12u, 15u, 21u, 255u, 65535u, 70000u}) {
    INFO("type " << type);
    CHECK(MaxBodyBytes(type) == 0);
  }
}

TEST_CASE("EncodeEnvelope rejects what a peer would reject", "[framing]") {
  SECTION("no payload") {
    auto encoded = EncodeEnvelope(wire::Envelope());
    REQUIRE_FALSE(encoded.ok());
    CHECK(encoded.error().code == ErrorCode::kInvalidArgument);
  }
  SECTION("over the limit of its type") {
    wire::Envelope envelope;
    envelope.mutable_error()->set_code(1);
    envelope.mutable_error()->set_message(std::string(3000, 'x'));
    auto encoded = EncodeEnvelope(envelope);
    REQUIRE_FALSE(encoded.ok());
    CHECK(encoded.error().code == ErrorCode::kMessageTooLarge);
    CHECK_THAT(encoded.error().message, Catch::Contains("ErrorReport"));
  }
  SECTION("a full video chunk with frame info fits") {
    wire::Envelope envelope;
    wire::VideoChunk* chunk = envelope.mutable_video_chunk();
    chunk->set_frame_id(UINT64_MAX);
    chunk->set_offset(UINT32_MAX);
    chunk->set_total_size(UINT32_MAX);
    chunk->set_data(std::string(kMaxVideoChunkDataBytes, 'v'));
    wire::VideoFrameInfo* info = chunk->mutable_info();
    info->set_codec(UINT32_MAX);
    info->set_width(UINT32_MAX);
    info->set_height(UINT32_MAX);
    info->set_keyframe(true);
    info->set_capture_time_us(INT64_MIN);
    CHECK(EncodeEnvelope(envelope).ok());
  }
}

TEST_CASE("FrameReader handles input one byte at a time", "[framing]") {
  const Bytes stream = Concat(kGoldenHelloBytes, kGoldenPingBytes);
  FrameReader reader;
  wire::Envelope out;
  std::vector<wire::Envelope::PayloadCase> got;
  for (size_t i = 0; i < stream.size(); ++i) {
    std::span<const uint8_t> input(&stream[i], 1);
    const Result result = reader.Read(&input, &out);
    CHECK(input.empty());
    const bool last_of_message = i + 1 == kGoldenHelloBytes.size() || i + 1 == stream.size();
    if (last_of_message) {
      REQUIRE(result == Result::kMessage);
      got.push_back(out.payload_case());
      CHECK(reader.buffered_bytes() == 0);
    } else {
      REQUIRE(result == Result::kNeedMore);
      CHECK(reader.buffered_bytes() <= kFrameHeaderBytes + MaxBodyBytes(1));
    }
  }
  CHECK(got == std::vector{wire::Envelope::kHello, wire::Envelope::kPing});
  CHECK(out.ping().id() == 7);
}

TEST_CASE("FrameReader returns two messages from one buffer", "[framing]") {
  const Bytes stream = Concat(kGoldenPingBytes, kGoldenHelloBytes);
  FrameReader reader;
  wire::Envelope out;
  std::span<const uint8_t> input(stream);
  REQUIRE(reader.Read(&input, &out) == Result::kMessage);
  CHECK(out.has_ping());
  CHECK(input.size() == kGoldenHelloBytes.size());
  REQUIRE(reader.Read(&input, &out) == Result::kMessage);
  CHECK(out.has_hello());
  CHECK(input.empty());
  CHECK(reader.Read(&input, &out) == Result::kNeedMore);
}

TEST_CASE("FrameReader rejects an oversized length before allocating", "[framing]") {
  struct Case {
    uint16_t type;
    uint32_t length;
  };
  const Case cases[] = {
      {16, 0xffffffff}, {16, 0x7fffffff}, {16, kMaxVideoChunkDataBytes + 257},
      {1, 1025},        {4, 65},          {2, 2049},
  };
  for (const Case& c : cases) {
    INFO("type " << c.type << " length " << c.length);
    FrameReader reader;
    wire::Envelope out;
    // The header plus a little body: the reader must fail on the header alone.
    const Bytes stream = Concat(Header(c.length, c.type), Bytes(16, 0));
    std::span<const uint8_t> input(stream);
    REQUIRE(reader.Read(&input, &out) == Result::kError);
    CHECK(reader.error().code == ErrorCode::kMessageTooLarge);
    CHECK(reader.buffered_bytes() <= kFrameHeaderBytes);
    CHECK_THAT(reader.error().message, Catch::Contains(std::to_string(c.length)));
  }
}

TEST_CASE("FrameReader accepts a body exactly at the limit", "[framing]") {
  FrameReader reader;
  wire::Envelope out;
  const Bytes header = Header(64, 4);
  std::span<const uint8_t> input(header);
  CHECK(reader.Read(&input, &out) == Result::kNeedMore);
  CHECK(reader.buffered_bytes() == kFrameHeaderBytes + 64);
}

TEST_CASE("FrameReader rejects unknown types, versions and flags", "[framing]") {
  struct Case {
    const char* name;
    Bytes header;
    ErrorCode code;
  };
  const Case cases[] = {
      {"type 0", Header(2, 0), ErrorCode::kUnknownMessageType},
      {"type 12", Header(2, 12), ErrorCode::kUnknownMessageType},
      {"type 0x0100", Header(2, 0x0100), ErrorCode::kUnknownMessageType},
      {"version 0", Header(2, 4, 0), ErrorCode::kMalformedMessage},
      {"version 2", Header(2, 4, 2), ErrorCode::kMalformedMessage},
      {"flags 1", Header(2, 4, 1, 1), ErrorCode::kMalformedMessage},
      {"flags 0x80", Header(2, 4, 1, 0x80), ErrorCode::kMalformedMessage},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    FrameReader reader;
    wire::Envelope out;
    std::span<const uint8_t> input(c.header);
    REQUIRE(reader.Read(&input, &out) == Result::kError);
    CHECK(reader.error().code == c.code);
    CHECK_FALSE(reader.error().message.empty());
  }
}

TEST_CASE("FrameReader checks the body against the announced type", "[framing]") {
  FrameReader reader;
  wire::Envelope out;
  SECTION("Hello body announced as Ping") {
    Bytes stream(kGoldenPingBytes.begin(), kGoldenPingBytes.end());
    stream[5] = 5;  // Type Pong, body Ping.
    REQUIRE(FeedAll(reader, stream, &out) == Result::kError);
    CHECK(reader.error().code == ErrorCode::kMalformedMessage);
    CHECK_THAT(reader.error().message, Catch::Contains("Pong") && Catch::Contains("Ping"));
  }
  SECTION("empty body") {
    REQUIRE(FeedAll(reader, Header(0, 4), &out) == Result::kError);
    CHECK(reader.error().code == ErrorCode::kMalformedMessage);
  }
  SECTION("garbage body") {
    REQUIRE(FeedAll(reader, Concat(Header(5, 1), Bytes(5, 0xff)), &out) == Result::kError);
    CHECK(reader.error().code == ErrorCode::kMalformedMessage);
  }
  SECTION("body truncated inside a field") {
    // Envelope.hello announcing 16 bytes, but the body ends after 2 of them.
    const Bytes body = {0x0a, 0x10, 0x08, 0x01};
    REQUIRE(FeedAll(reader, Concat(Header(4, 1), body), &out) == Result::kError);
    CHECK(reader.error().code == ErrorCode::kMalformedMessage);
  }
  SECTION("invalid UTF-8 in a string") {
    wire::Envelope goodbye;
    goodbye.mutable_goodbye()->set_reason("ok");
    Bytes stream = test::Encode(goodbye);
    stream.back() = 0xff;
    REQUIRE(FeedAll(reader, stream, &out) == Result::kError);
    CHECK(reader.error().code == ErrorCode::kMalformedMessage);
  }
}

TEST_CASE("FrameReader waits for a truncated message and keeps errors", "[framing]") {
  FrameReader reader;
  wire::Envelope out;
  const Bytes partial(kGoldenHelloBytes.begin(), kGoldenHelloBytes.begin() + 12);
  std::span<const uint8_t> input(partial);
  CHECK(reader.Read(&input, &out) == Result::kNeedMore);
  CHECK(reader.buffered_bytes() == kFrameHeaderBytes + 18);

  FrameReader failed;
  REQUIRE(FeedAll(failed, Header(2, 99), &out) == Result::kError);
  // Sticky: even a valid message is refused afterwards.
  CHECK(FeedAll(failed, kGoldenPingBytes, &out) == Result::kError);
  CHECK(failed.error().code == ErrorCode::kUnknownMessageType);
}

TEST_CASE("FrameReader ignores unknown fields inside a known message", "[framing]") {
  // Ping with an extra field 15 (varint 1) appended: a newer peer may add fields.
  const Bytes stream = {0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x01,
                        0x00, 0x22, 0x04, 0x08, 0x07, 0x78, 0x01};
  FrameReader reader;
  wire::Envelope out;
  REQUIRE(FeedAll(reader, stream, &out) == Result::kMessage);
  CHECK(out.ping().id() == 7);
}

}  // namespace
}  // namespace lifeline
