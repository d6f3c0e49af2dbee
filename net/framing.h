// Framing: the 8-byte header + Envelope encoding described in proto/lifeline.proto.
//
// FrameReader is the parser for everything a peer sends us: it checks the header and the
// per-type size limit before allocating the body, parses the Envelope and checks that it
// carries the field the header announced. After the first error it stays failed: the
// caller must close that connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/proto/lifeline.pb.h"

namespace lifeline {

inline constexpr size_t kFrameHeaderBytes = 8;
inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr size_t kMaxVideoChunkDataBytes = 16 * 1024;
// Remote control: UTF-8 bytes of one TextEvent and of one ClipboardText.
inline constexpr size_t kMaxTextEventBytes = 256;
inline constexpr size_t kMaxClipboardBytes = 256 * 1024;
// File transfer: data bytes of one FileChunk.
inline constexpr size_t kMaxFileChunkDataBytes = 16 * 1024;
// Largest cursor picture side on the wire (CursorShape).
inline constexpr size_t kMaxCursorSide = 256;

// The largest body accepted for `type` (an Envelope field number); 0 for unknown types.
size_t MaxBodyBytes(uint32_t type);

// "Hello", "VideoChunk"...; "unknown" for unknown types. For logs and error messages.
std::string_view MessageTypeName(uint32_t type);

// Serializes `envelope` with its header. Error kMessageTooLarge when the body exceeds the
// limit for its type (a bug on our side), kInvalidArgument when no payload is set.
Expected<std::vector<uint8_t>> EncodeEnvelope(const wire::Envelope& envelope);

// The answer to `ping`: echoes its id and time, adds `responder_time_us`.
wire::Envelope MakePong(const wire::Ping& ping, int64_t responder_time_us);

class FrameReader {
 public:
  enum class Result {
    kNeedMore,  // All input consumed; no complete message yet.
    kMessage,   // `*out` holds the next message; input may have bytes left.
    kError,     // Malformed input; see error(). Close the connection.
  };

  // Consumes bytes from the front of `*input` (advancing it) until a message is complete
  // or the input is exhausted.
  Result Read(std::span<const uint8_t>* input, wire::Envelope* out);

  // kMessageTooLarge, kUnknownMessageType or kMalformedMessage, with details.
  const Error& error() const { return error_; }

  // Bytes held for an incomplete message (never more than header + the type's limit).
  size_t buffered_bytes() const { return header_filled_ + body_.size(); }

 private:
  Result Fail(ErrorCode code, std::string message);

  uint8_t header_[kFrameHeaderBytes] = {};
  size_t header_filled_ = 0;
  uint32_t body_length_ = 0;
  uint32_t type_ = 0;
  std::vector<uint8_t> body_;  // Sized to body_length_ once the header is valid.
  size_t body_filled_ = 0;
  bool failed_ = false;
  Error error_;
};

}  // namespace lifeline
