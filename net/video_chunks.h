// Cutting an encoded frame into VideoChunk messages, and putting it back together.
// Net knows no pixels: a frame here is opaque bytes plus its VideoFrameInfo.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "net/proto/lifeline.pb.h"

namespace lifeline {

// The largest encoded frame accepted from a peer (a 4K keyframe at high quality fits).
inline constexpr uint32_t kMaxEncodedFrameBytes = 16 * 1024 * 1024;

// Splits `data` into envelopes of at most kMaxVideoChunkDataBytes; the first carries
// `info`. An empty `data` yields no chunks.
std::vector<wire::Envelope> SplitIntoChunks(uint64_t frame_id,
                                            const wire::VideoFrameInfo& info,
                                            std::span<const uint8_t> data);

struct AssembledFrame {
  uint64_t frame_id = 0;
  wire::VideoFrameInfo info;
  std::vector<uint8_t> data;
};

// Threading: one thread (the viewer's network thread).
class ChunkAssembler {
 public:
  // Adds one chunk. Returns the whole frame when `chunk` completed it, nullopt when more
  // chunks are needed, or kMalformedMessage / kMessageTooLarge when the chunk breaks the
  // rules (wrong order, interleaved frames, sizes that do not add up, frame ids that go
  // backwards). After an error the connection must be closed.
  Expected<std::optional<AssembledFrame>> Add(const wire::VideoChunk& chunk);

 private:
  bool in_progress_ = false;
  bool have_last_id_ = false;
  uint64_t last_frame_id_ = 0;
  AssembledFrame current_;
  uint32_t expected_total_ = 0;
};

}  // namespace lifeline
