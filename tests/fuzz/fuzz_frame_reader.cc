// Fuzz target: the parser for everything a peer sends (FrameReader, then Envelope parsing).
//
// The input is the byte stream from a peer. It is fed twice: at once, and in pieces whose
// sizes derive from a hash of the input; both must give the same messages and the same
// error. Every parsed message must re-encode and parse back identically, and the reader
// must never hold more than a header plus the largest limit.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "net/framing.h"
#include "net/proto/lifeline.pb.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

using lifeline::FrameReader;
using lifeline::wire::Envelope;

// A header plus the largest body any message type may have (clipboard text and cursor
// images are larger than video chunks).
size_t MaxBufferedBytes() {
  static const size_t kMax = [] {
    size_t largest = 0;
    for (uint32_t type = 0; type <= 0xffff; ++type)
      largest = std::max(largest, lifeline::MaxBodyBytes(type));
    return lifeline::kFrameHeaderBytes + largest;
  }();
  return kMax;
}

void Check(bool condition) {
  if (!condition)
    __builtin_trap();
}

struct Outcome {
  std::vector<std::string> messages;  // Serialized.
  bool failed = false;
  lifeline::ErrorCode code = lifeline::ErrorCode::kOk;
};

// Feeds `data` in pieces of 1..max_piece bytes chosen by `state` (0: all at once).
Outcome Feed(std::span<const uint8_t> data, uint64_t state, size_t max_piece) {
  Outcome outcome;
  FrameReader reader;
  Envelope message;
  while (!data.empty() && !outcome.failed) {
    size_t piece = data.size();
    if (max_piece > 0) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      piece = std::min(data.size(), 1 + static_cast<size_t>((state >> 33) % max_piece));
    }
    std::span<const uint8_t> input = data.first(piece);
    data = data.subspan(piece);
    while (true) {
      const FrameReader::Result result = reader.Read(&input, &message);
      Check(reader.buffered_bytes() <= MaxBufferedBytes());
      if (result == FrameReader::Result::kNeedMore) {
        Check(input.empty());
        break;
      }
      if (result == FrameReader::Result::kError) {
        outcome.failed = true;
        outcome.code = reader.error().code;
        Check(!reader.error().message.empty());
        // Sticky.
        std::span<const uint8_t> more = data;
        Check(reader.Read(&more, &message) == FrameReader::Result::kError);
        break;
      }
      Check(message.payload_case() != Envelope::PAYLOAD_NOT_SET);
      outcome.messages.push_back(message.SerializeAsString());

      // Round trip: what we parsed, we can send, and it parses back the same.
      auto encoded = lifeline::EncodeEnvelope(message);
      if (encoded.ok()) {
        FrameReader again;
        Envelope copy;
        std::span<const uint8_t> bytes(*encoded);
        Check(again.Read(&bytes, &copy) == FrameReader::Result::kMessage);
        Check(bytes.empty());
        Check(copy.SerializeAsString() == outcome.messages.back());
      }
      if (input.empty())
        break;
    }
  }
  return outcome;
}

std::vector<uint8_t> EncodeOrDie(const Envelope& envelope) {
  auto encoded = lifeline::EncodeEnvelope(envelope);
  if (!encoded.ok())
    std::abort();
  return std::move(encoded).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every invalid UTF-8 string it rejects; that is expected here.
  static const bool kQuiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)kQuiet;
  const std::span<const uint8_t> input(data, size);
  uint64_t hash = 1469598103934665603ull;  // FNV-1a.
  for (uint8_t byte : input)
    hash = (hash ^ byte) * 1099511628211ull;

  const Outcome whole = Feed(input, 0, 0);
  const Outcome pieces = Feed(input, hash, 1 + hash % 64);
  const Outcome bytes = Feed(input, hash, 1);
  for (const Outcome* other : {&pieces, &bytes}) {
    Check(other->messages == whole.messages);
    Check(other->failed == whole.failed);
    Check(other->code == whole.code);
  }
  return 0;
}

namespace lifeline::fuzz {

std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<Envelope> messages(8);
  wire::Hello* hello = messages[0].mutable_hello();
  hello->set_protocol_version(1);
  hello->set_min_protocol_version(1);
  hello->set_app_version("0.1.0");
  hello->set_role(wire::ROLE_VIEWER);
  hello->add_video_codecs(1);
  hello->add_video_codecs(2);
  messages[1].mutable_error()->set_code(212);
  messages[1].mutable_error()->set_message("malformed message");
  messages[2].mutable_goodbye()->set_reason("bye");
  messages[3].mutable_ping()->set_id(7);
  messages[3].mutable_ping()->set_sender_time_us(123456789);
  messages[4].mutable_pong()->set_id(7);
  messages[4].mutable_pong()->set_echo_time_us(123456789);
  messages[4].mutable_pong()->set_responder_time_us(-5);
  wire::VideoChunk* chunk = messages[5].mutable_video_chunk();
  chunk->set_frame_id(3);
  chunk->set_offset(0);
  chunk->set_total_size(40);
  chunk->set_data(std::string(40, 'v'));
  chunk->mutable_info()->set_codec(1);
  chunk->mutable_info()->set_width(1920);
  chunk->mutable_info()->set_height(1080);
  chunk->mutable_info()->set_keyframe(true);
  messages[6].mutable_frame_ack()->set_frame_id(3);
  messages[6].mutable_frame_ack()->set_decoded(true);
  messages[7].mutable_keyframe_request()->set_last_good_frame_id(2);

  std::vector<std::vector<uint8_t>> seeds;
  std::vector<uint8_t> all;
  for (const Envelope& message : messages) {
    seeds.push_back(EncodeOrDie(message));
    all.insert(all.end(), seeds.back().begin(), seeds.back().end());
  }
  seeds.push_back(all);
  return seeds;
}

}  // namespace lifeline::fuzz
