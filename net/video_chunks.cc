#include "net/video_chunks.h"

#include <algorithm>
#include <limits>
#include <new>
#include <utility>

#include <fmt/format.h>

#include "net/framing.h"

namespace lifeline {

std::vector<wire::Envelope> SplitIntoChunks(uint64_t frame_id,
                                            const wire::VideoFrameInfo& info,
                                            std::span<const uint8_t> data) {
  std::vector<wire::Envelope> chunks;
  // total_size is 32 bits on the wire; larger frames cannot be described (and a peer
  // rejects anything above kMaxEncodedFrameBytes anyway).
  if (data.empty() || data.size() > std::numeric_limits<uint32_t>::max())
    return chunks;
  chunks.reserve((data.size() + kMaxVideoChunkDataBytes - 1) / kMaxVideoChunkDataBytes);
  for (size_t offset = 0; offset < data.size(); offset += kMaxVideoChunkDataBytes) {
    const size_t length = std::min(kMaxVideoChunkDataBytes, data.size() - offset);
    wire::Envelope& envelope = chunks.emplace_back();
    wire::VideoChunk* chunk = envelope.mutable_video_chunk();
    chunk->set_frame_id(frame_id);
    chunk->set_offset(static_cast<uint32_t>(offset));
    chunk->set_total_size(static_cast<uint32_t>(data.size()));
    chunk->set_data(data.data() + offset, length);
    if (offset == 0)
      *chunk->mutable_info() = info;
  }
  return chunks;
}

// Rules (all checked before anything is allocated or copied):
//   - A frame starts with a chunk at offset 0 that carries `info` and a total_size in
//     1..kMaxEncodedFrameBytes; its frame_id is greater than every earlier frame's.
//   - Every later chunk of that frame has the same frame_id and total_size, starts where
//     the previous one ended, and carries 1..(total_size - offset) bytes.
//   - A new frame starts only after the previous one completed.
//   - `info` in a chunk other than the first is ignored.
// After an error the frame in progress is dropped; the caller closes the connection.
Expected<std::optional<AssembledFrame>> ChunkAssembler::Add(const wire::VideoChunk& chunk) {
  auto fail = [this](ErrorCode code, std::string message) {
    in_progress_ = false;
    current_ = AssembledFrame{};
    expected_total_ = 0;
    return Error{code, std::move(message)};
  };
  const uint64_t frame_id = chunk.frame_id();
  const std::string& data = chunk.data();

  if (!in_progress_) {
    if (chunk.offset() != 0) {
      return fail(
          ErrorCode::kMalformedMessage,
          fmt::format("video frame {} starts at offset {}, expected 0", frame_id, chunk.offset()));
    }
    if (!chunk.has_info()) {
      return fail(ErrorCode::kMalformedMessage,
                  fmt::format("first chunk of video frame {} carries no frame info", frame_id));
    }
    if (chunk.total_size() == 0) {
      return fail(ErrorCode::kMalformedMessage,
                  fmt::format("video frame {} announces 0 bytes", frame_id));
    }
    if (chunk.total_size() > kMaxEncodedFrameBytes) {
      return fail(ErrorCode::kMessageTooLarge,
                  fmt::format("video frame {} announces {} bytes, the limit is {} bytes", frame_id,
                              chunk.total_size(), kMaxEncodedFrameBytes));
    }
    if (have_last_id_ && frame_id <= last_frame_id_) {
      return fail(
          ErrorCode::kMalformedMessage,
          fmt::format("video frame id {} does not follow frame {}", frame_id, last_frame_id_));
    }
    if (data.empty() || data.size() > chunk.total_size()) {
      return fail(ErrorCode::kMalformedMessage,
                  fmt::format("first chunk of video frame {} carries {} bytes of {}", frame_id,
                              data.size(), chunk.total_size()));
    }
    current_ = AssembledFrame{};
    current_.frame_id = frame_id;
    current_.info = chunk.info();
    try {
      current_.data.reserve(chunk.total_size());  // Validated: at most kMaxEncodedFrameBytes.
    } catch (const std::bad_alloc&) {
      return fail(ErrorCode::kInternal, fmt::format("out of memory for video frame {} of {} bytes",
                                                    frame_id, chunk.total_size()));
    }
    in_progress_ = true;
    have_last_id_ = true;
    last_frame_id_ = frame_id;
    expected_total_ = chunk.total_size();
  } else {
    const size_t received = current_.data.size();
    if (frame_id != current_.frame_id) {
      return fail(ErrorCode::kMalformedMessage,
                  fmt::format("chunk of video frame {} arrived while frame {} was incomplete "
                              "({} of {} bytes)",
                              frame_id, current_.frame_id, received, expected_total_));
    }
    if (chunk.total_size() != expected_total_) {
      return fail(ErrorCode::kMalformedMessage,
                  fmt::format("chunk of video frame {} announces {} bytes, the first said {}",
                              frame_id, chunk.total_size(), expected_total_));
    }
    if (chunk.offset() != received) {
      return fail(ErrorCode::kMalformedMessage,
                  fmt::format("chunk of video frame {} at offset {}, expected {}", frame_id,
                              chunk.offset(), received));
    }
    if (data.empty() || data.size() > expected_total_ - received) {
      return fail(ErrorCode::kMalformedMessage,
                  fmt::format("chunk of video frame {} carries {} bytes at offset {} of {}",
                              frame_id, data.size(), received, expected_total_));
    }
  }

  current_.data.insert(current_.data.end(), data.begin(), data.end());
  if (current_.data.size() < expected_total_)
    return std::optional<AssembledFrame>();

  in_progress_ = false;
  expected_total_ = 0;
  std::optional<AssembledFrame> done(std::move(current_));
  current_ = AssembledFrame{};
  return done;
}

}  // namespace lifeline
