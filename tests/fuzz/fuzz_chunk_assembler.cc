// Fuzz target: video reassembly from what a peer sends. The input is a stream of framed
// Envelopes; every VideoChunk goes to a ChunkAssembler. After an error a fresh assembler
// takes over (the real viewer closes the connection instead), so one input can exercise
// many frames. Checks: completed frames have the announced size, carry info, and their
// ids increase.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "net/framing.h"
#include "net/proto/lifeline.pb.h"
#include "net/video_chunks.h"
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

Envelope Chunk(uint64_t frame_id,
               uint32_t offset,
               uint32_t total,
               const std::string& data,
               bool with_info) {
  Envelope envelope;
  lifeline::wire::VideoChunk* chunk = envelope.mutable_video_chunk();
  chunk->set_frame_id(frame_id);
  chunk->set_offset(offset);
  chunk->set_total_size(total);
  chunk->set_data(data);
  if (with_info) {
    chunk->mutable_info()->set_codec(1);
    chunk->mutable_info()->set_width(320);
    chunk->mutable_info()->set_height(240);
    chunk->mutable_info()->set_keyframe(frame_id == 1);
  }
  return envelope;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every invalid UTF-8 string it rejects; that is expected here.
  static const bool kQuiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)kQuiet;
  std::span<const uint8_t> input(data, size);
  lifeline::FrameReader reader;
  lifeline::ChunkAssembler assembler;
  Envelope message;
  bool have_last = false;
  uint64_t last_id = 0;
  uint32_t first_total = 0;
  while (!input.empty()) {
    const lifeline::FrameReader::Result result = reader.Read(&input, &message);
    if (result != lifeline::FrameReader::Result::kMessage)
      break;  // Need more, or error.
    if (!message.has_video_chunk())
      continue;
    const lifeline::wire::VideoChunk& chunk = message.video_chunk();
    if (chunk.offset() == 0)
      first_total = chunk.total_size();
    auto added = assembler.Add(chunk);
    if (!added.ok()) {
      Check(!added.error().message.empty());
      assembler = lifeline::ChunkAssembler();
      have_last = false;
      continue;
    }
    if (!added->has_value())
      continue;
    const lifeline::AssembledFrame& frame = **added;
    Check(frame.data.size() == first_total);
    Check(frame.data.size() == chunk.total_size());
    Check(!frame.data.empty() && frame.data.size() <= lifeline::kMaxEncodedFrameBytes);
    Check(!have_last || frame.frame_id > last_id);
    have_last = true;
    last_id = frame.frame_id;
  }
  return 0;
}

namespace lifeline::fuzz {

std::vector<std::vector<uint8_t>> Seeds() {
  auto append = [](std::vector<uint8_t>& out, const Envelope& envelope) {
    const std::vector<uint8_t> bytes = EncodeOrDie(envelope);
    out.insert(out.end(), bytes.begin(), bytes.end());
  };
  std::vector<std::vector<uint8_t>> seeds;

  // Frame 1 in three small chunks, frame 2 in one, with a FrameAck in between.
  std::vector<uint8_t> small;
  append(small, Chunk(1, 0, 30, std::string(10, 'a'), true));
  append(small, Chunk(1, 10, 30, std::string(10, 'b'), false));
  append(small, Chunk(1, 20, 30, std::string(10, 'c'), false));
  Envelope ack;
  ack.mutable_frame_ack()->set_frame_id(1);
  append(small, ack);
  append(small, Chunk(2, 0, 5, "hello", true));
  seeds.push_back(small);

  // A single-chunk frame.
  std::vector<uint8_t> single;
  append(single, Chunk(7, 0, 3, "abc", true));
  seeds.push_back(single);

  // A real split: 20000 bytes in two chunks of the maximum size and the rest.
  std::vector<uint8_t> split;
  std::vector<uint8_t> frame(20000);
  for (size_t i = 0; i < frame.size(); ++i)
    frame[i] = static_cast<uint8_t>(i);
  wire::VideoFrameInfo info;
  info.set_codec(1);
  info.set_width(640);
  info.set_height(480);
  for (const Envelope& envelope : SplitIntoChunks(9, info, frame))
    append(split, envelope);
  seeds.push_back(split);

  // A frame announcing far more than it delivers.
  std::vector<uint8_t> large;
  append(large, Chunk(1, 0, kMaxEncodedFrameBytes, std::string(16, 'x'), true));
  append(large, Chunk(1, 16, kMaxEncodedFrameBytes, std::string(16, 'y'), false));
  seeds.push_back(large);
  return seeds;
}

}  // namespace lifeline::fuzz
