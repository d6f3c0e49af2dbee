#include "net/framing.h"

#include <algorithm>
#include <cstring>
#include <new>

#include <fmt/format.h>

namespace lifeline {
namespace {

using Payload = wire::Envelope::PayloadCase;

// Generous for what we send (a Hello is ~30 bytes) yet small enough that a hostile peer
// cannot make us buffer much before the type is known to be legitimate.
constexpr size_t kMaxHelloBytes = 1024;
constexpr size_t kMaxErrorReportBytes = 2048;
constexpr size_t kMaxGoodbyeBytes = 1024;
constexpr size_t kMaxSmallMessageBytes = 64;  // Ping, Pong, FrameAck, KeyframeRequest.
// Chunk data plus the other VideoChunk fields and VideoFrameInfo (< 100 bytes encoded).
constexpr size_t kVideoChunkOverheadBytes = 256;

void PutU32(uint8_t* out, uint32_t value) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

uint32_t GetU32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | in[3];
}

}  // namespace

size_t MaxBodyBytes(uint32_t type) {
  switch (type) {
    case Payload::kHello:
      return kMaxHelloBytes;
    case Payload::kError:
      return kMaxErrorReportBytes;
    case Payload::kGoodbye:
      return kMaxGoodbyeBytes;
    case Payload::kPing:
      return kMaxSmallMessageBytes;
    case Payload::kPong:
      return kMaxSmallMessageBytes;
    case Payload::kAuthShare:
      return 128;  // 65-byte point + framing.
    case Payload::kAuthShareReply:
      return 160;  // Point + 32-byte MAC.
    case Payload::kAuthConfirm:
      return 64;
    case Payload::kAuthTotpRequired:
      return 16;
    case Payload::kAuthTotp:
      return 32;
    case Payload::kAuthResult:
      return 16;
    case Payload::kVideoChunk:
      return kMaxVideoChunkDataBytes + kVideoChunkOverheadBytes;
    case Payload::kFrameAck:
      return kMaxSmallMessageBytes;
    case Payload::kKeyframeRequest:
      return kMaxSmallMessageBytes;
    case Payload::kPointerEvent:
      return kMaxSmallMessageBytes;  // Seven varints: at most ~50 bytes.
    case Payload::kKeyEvent:
      return kMaxSmallMessageBytes;
    case Payload::kTextEvent:
      return kMaxTextEventBytes + 32;
    case Payload::kClipboardText:
      return kMaxClipboardBytes + 32;
    case Payload::kFileOffer:
      return 512;  // A 255-byte name, a 32-byte hash, ids.
    case Payload::kFileAnswer:
      return 1024;
    case Payload::kFileChunk:
      return kMaxFileChunkDataBytes + 64;
    case Payload::kFileProgress:
      return kMaxSmallMessageBytes;
    case Payload::kFileResult:
      return 1024;
    case Payload::kCursorShape:
      return kMaxCursorSide * kMaxCursorSide * 4 + 64;
    case Payload::kCursorPosition:
      return kMaxSmallMessageBytes;
    default:
      return 0;
  }
}

std::string_view MessageTypeName(uint32_t type) {
  switch (type) {
    case Payload::kHello:
      return "Hello";
    case Payload::kError:
      return "ErrorReport";
    case Payload::kGoodbye:
      return "Goodbye";
    case Payload::kPing:
      return "Ping";
    case Payload::kPong:
      return "Pong";
    case Payload::kAuthShare:
      return "AuthShare";
    case Payload::kAuthShareReply:
      return "AuthShareReply";
    case Payload::kAuthConfirm:
      return "AuthConfirm";
    case Payload::kAuthTotpRequired:
      return "AuthTotpRequired";
    case Payload::kAuthTotp:
      return "AuthTotp";
    case Payload::kAuthResult:
      return "AuthResult";
    case Payload::kVideoChunk:
      return "VideoChunk";
    case Payload::kFrameAck:
      return "FrameAck";
    case Payload::kKeyframeRequest:
      return "KeyframeRequest";
    case Payload::kPointerEvent:
      return "PointerEvent";
    case Payload::kKeyEvent:
      return "KeyEvent";
    case Payload::kTextEvent:
      return "TextEvent";
    case Payload::kClipboardText:
      return "ClipboardText";
    case Payload::kFileOffer:
      return "FileOffer";
    case Payload::kFileAnswer:
      return "FileAnswer";
    case Payload::kFileChunk:
      return "FileChunk";
    case Payload::kFileProgress:
      return "FileProgress";
    case Payload::kFileResult:
      return "FileResult";
    case Payload::kCursorShape:
      return "CursorShape";
    case Payload::kCursorPosition:
      return "CursorPosition";
    default:
      return "unknown";
  }
}

Expected<std::vector<uint8_t>> EncodeEnvelope(const wire::Envelope& envelope) {
  const uint32_t type = static_cast<uint32_t>(envelope.payload_case());
  if (type == Payload::PAYLOAD_NOT_SET) {
    return Error{ErrorCode::kInvalidArgument, "cannot send an Envelope without a payload"};
  }
  const size_t body_bytes = envelope.ByteSizeLong();
  const size_t limit = MaxBodyBytes(type);
  if (body_bytes > limit) {
    return Error{ErrorCode::kMessageTooLarge,
                 fmt::format("{} message of {} bytes exceeds the limit of {} bytes",
                             MessageTypeName(type), body_bytes, limit)};
  }
  std::vector<uint8_t> out(kFrameHeaderBytes + body_bytes);
  PutU32(out.data(), static_cast<uint32_t>(body_bytes));
  out[4] = static_cast<uint8_t>(type >> 8);
  out[5] = static_cast<uint8_t>(type);
  out[6] = kEnvelopeVersion;
  out[7] = 0;  // Flags.
  if (!envelope.SerializeToArray(out.data() + kFrameHeaderBytes, static_cast<int>(body_bytes))) {
    return Error{ErrorCode::kInternal,
                 fmt::format("could not serialize a {} message", MessageTypeName(type))};
  }
  return out;
}

FrameReader::Result FrameReader::Read(std::span<const uint8_t>* input, wire::Envelope* out) {
  if (failed_)
    return Result::kError;

  if (header_filled_ < kFrameHeaderBytes) {
    const size_t n = std::min(kFrameHeaderBytes - header_filled_, input->size());
    if (n == 0)
      return Result::kNeedMore;
    std::memcpy(header_ + header_filled_, input->data(), n);
    header_filled_ += n;
    *input = input->subspan(n);
    if (header_filled_ < kFrameHeaderBytes)
      return Result::kNeedMore;

    // The whole header is here: validate it before allocating anything for the body.
    body_length_ = GetU32(header_);
    type_ = (uint32_t{header_[4]} << 8) | header_[5];
    const uint8_t version = header_[6];
    const uint8_t flags = header_[7];
    if (version != kEnvelopeVersion) {
      return Fail(ErrorCode::kMalformedMessage,
                  fmt::format("message header has envelope version {}, expected {}", version,
                              kEnvelopeVersion));
    }
    if (flags != 0) {
      return Fail(ErrorCode::kMalformedMessage,
                  fmt::format("message header has flags 0x{:02x}, expected 0", flags));
    }
    const size_t limit = MaxBodyBytes(type_);
    if (limit == 0) {
      return Fail(ErrorCode::kUnknownMessageType, fmt::format("unknown message type {}", type_));
    }
    if (body_length_ > limit) {
      return Fail(ErrorCode::kMessageTooLarge,
                  fmt::format("{} message announces {} bytes, the limit is {} bytes",
                              MessageTypeName(type_), body_length_, limit));
    }
    try {
      body_.resize(body_length_);  // At most the type's limit (~16 KiB).
    } catch (const std::bad_alloc&) {
      return Fail(ErrorCode::kInternal, "out of memory for a message body");
    }
    body_filled_ = 0;
  }

  const size_t n = std::min(size_t{body_length_} - body_filled_, input->size());
  if (n > 0) {
    std::memcpy(body_.data() + body_filled_, input->data(), n);
    body_filled_ += n;
    *input = input->subspan(n);
  }
  if (body_filled_ < body_length_)
    return Result::kNeedMore;

  // A complete message. Reset first so the next header starts cleanly.
  header_filled_ = 0;
  static const uint8_t kEmpty = 0;
  const uint8_t* body = body_length_ == 0 ? &kEmpty : body_.data();
  out->Clear();
  const bool parsed = out->ParseFromArray(body, static_cast<int>(body_length_));
  body_.clear();  // Keeps the capacity (bounded by the largest limit) for the next message.
  body_filled_ = 0;
  if (!parsed) {
    return Fail(ErrorCode::kMalformedMessage,
                fmt::format("{} message of {} bytes could not be parsed", MessageTypeName(type_),
                            body_length_));
  }
  const uint32_t payload = static_cast<uint32_t>(out->payload_case());
  if (payload != type_) {
    return Fail(ErrorCode::kMalformedMessage,
                fmt::format("message header announces {} (type {}) but the body carries {} "
                            "(type {})",
                            MessageTypeName(type_), type_, MessageTypeName(payload), payload));
  }
  return Result::kMessage;
}

FrameReader::Result FrameReader::Fail(ErrorCode code, std::string message) {
  failed_ = true;
  error_ = Error{code, std::move(message)};
  body_.clear();
  body_.shrink_to_fit();
  return Result::kError;
}

wire::Envelope MakePong(const wire::Ping& ping, int64_t responder_time_us) {
  wire::Envelope pong;
  pong.mutable_pong()->set_id(ping.id());
  pong.mutable_pong()->set_echo_time_us(ping.sender_time_us());
  pong.mutable_pong()->set_responder_time_us(responder_time_us);
  return pong;
}

}  // namespace lifeline
