// The relay's own small protocol, spoken inside the outer TLS 1.3 connection between a
// client (host or viewer) and `lifeline-relay`, before the relay splices two connections.
// After a splice the same connection carries only the inner, end-to-end TLS stream.
//
// WIRE: every message is a 2-byte big-endian body length (at most kMaxRelayBodyBytes),
// then the body: one type byte and the fields of that type, in order:
//   u8 / u16 / u64   big-endian integers
//   str              u16 length + bytes (each field has its own maximum below)
//
//   type  direction          fields
//   1 Register     host->relay     str device_spki, str device_proof
//   2 Connect      viewer->relay   str id (9 digits)
//   3 Accept       host->relay     str token (32 bytes), str device_spki, str device_proof
//                                  -- on a new data connection
//   4 Ping         both            u64 nonce
//   5 Pong         both            u64 nonce
//   10 Registered  relay->host     binding, u32 keepalive_interval_ms
//   11 Incoming    relay->host     str token (32 bytes)
//   12 Paired      relay->viewer   binding  -- the splice starts after this message
//   13 Refused     relay->client   u16 error code, str message
// device_spki = the host's device public key (DER SubjectPublicKeyInfo, Ed25519);
// device_proof = its Ed25519 signature over DeviceProofSignedBytes(TLS exporter of this
//   outer connection): proof of possession bound to this one TLS session (no replay).
//   (A TLS client certificate would prove the same, but OpenSSL keeps the parsed X509,
//   ~2.4 KB, for the life of every idle host connection.)
// binding = str id, str fingerprint (64 hex), u64 issued_at_unix_s, str relay_spki (DER),
//           str signature (Ed25519 over BindingSignedBytes()).
//
// PARSER: RelayMessageReader checks the length before allocating (never more than
// kMaxRelayBodyBytes per connection), rejects unknown types, trailing bytes and fields
// over their limits. After an error it stays failed: close that connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lifeline {

inline constexpr size_t kRelayHeaderBytes = 2;
inline constexpr size_t kMaxRelayBodyBytes = 1024;
inline constexpr size_t kRelayTokenBytes = 32;
inline constexpr size_t kRelayIdDigits = 9;

enum class RelayMessageType : uint8_t {
  kRegister = 1,
  kConnect = 2,
  kAccept = 3,
  kPing = 4,
  kPong = 5,
  kRegistered = 10,
  kIncoming = 11,
  kPaired = 12,
  kRefused = 13,
};

// The relay's signed statement "this ID belongs to this device key" (security.md §2.8).
struct RelayBinding {
  std::string id;           // 9 digits.
  std::string fingerprint;  // Lowercase hex SHA-256 of the device's SubjectPublicKeyInfo.
  uint64_t issued_at_unix_s = 0;
  std::string relay_spki;  // The relay's public key (DER SubjectPublicKeyInfo, Ed25519).
  std::string signature;   // Ed25519, 64 bytes.
};

struct RelayMessage {
  RelayMessageType type = RelayMessageType::kPing;
  std::string id;                      // kConnect.
  std::string token;                   // kAccept, kIncoming.
  std::string device_spki;             // kRegister, kAccept.
  std::string device_proof;            // kRegister, kAccept.
  uint64_t nonce = 0;                  // kPing, kPong.
  RelayBinding binding;                // kRegistered, kPaired.
  uint32_t keepalive_interval_ms = 0;  // kRegistered.
  uint16_t error_code = 0;             // kRefused: an ErrorCode value.
  std::string error_message;           // kRefused.
};

// What the relay signs: a fixed label, then id, fingerprint and issued_at.
std::vector<uint8_t> BindingSignedBytes(const RelayBinding& binding);

// What a host signs to prove its device key on one relay connection: a fixed label and
// the connection's TLS exporter (RFC 9266 "EXPORTER-Channel-Binding", 32 bytes).
std::vector<uint8_t> DeviceProofSignedBytes(std::span<const uint8_t> channel_binding);

// Header + body. Error kInvalidArgument when a field breaks its limit (a bug on our side).
Expected<std::vector<uint8_t>> EncodeRelayMessage(const RelayMessage& message);

class RelayMessageReader {
 public:
  enum class Result { kNeedMore, kMessage, kError };

  // Consumes bytes from the front of `*input` until one message is complete or the input
  // is used up. kError: see error() (kRelayProtocol naming what was wrong).
  Result Read(std::span<const uint8_t>* input, RelayMessage* out);
  const Error& error() const { return error_; }
  // Bytes of an incomplete message held (<= header + kMaxRelayBodyBytes).
  size_t buffered_bytes() const { return header_filled_ + body_.size(); }
  // How many more bytes complete the current header or body (never 0): lets a client
  // read exactly one message and nothing of what follows it.
  size_t bytes_wanted() const;

 private:
  Result Fail(std::string message);

  uint8_t header_[kRelayHeaderBytes] = {};
  size_t header_filled_ = 0;
  size_t body_length_ = 0;
  std::vector<uint8_t> body_;
  bool failed_ = false;
  Error error_;
};

// Parses one whole body (type byte + fields). Error kRelayProtocol.
Expected<RelayMessage> ParseRelayBody(std::span<const uint8_t> body);

// True for exactly 9 ASCII digits.
bool IsRelayId(std::string_view id);

}  // namespace lifeline
