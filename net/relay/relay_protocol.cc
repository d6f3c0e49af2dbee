#include "net/relay/relay_protocol.h"

#include <algorithm>
#include <cstring>

namespace lifeline {
namespace {

constexpr char kBindingLabel[] = "lifeline-relay-binding-v1";
constexpr char kDeviceProofLabel[] = "lifeline-relay-device-proof-v1";
constexpr size_t kMaxFingerprintChars = 64;
constexpr size_t kMaxSpkiBytes = 128;  // Ed25519 SPKI is 44 bytes.
constexpr size_t kSignatureBytes = 64;
constexpr size_t kMaxErrorMessageBytes = 256;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out_.push_back(static_cast<uint8_t>(v >> shift));
  }
  void U64(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out_.push_back(static_cast<uint8_t>(v >> shift));
  }
  bool Str(std::string_view s, size_t max) {
    if (s.size() > max)
      return false;
    U16(static_cast<uint16_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
    return true;
  }
  std::vector<uint8_t>& out() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

class Parser {
 public:
  explicit Parser(std::span<const uint8_t> data) : data_(data) {}
  bool U8(uint8_t* v) {
    if (data_.size() < 1)
      return false;
    *v = data_[0];
    data_ = data_.subspan(1);
    return true;
  }
  bool U16(uint16_t* v) { return Uint(v); }
  bool U32(uint32_t* v) { return Uint(v); }
  bool U64(uint64_t* v) { return Uint(v); }
  bool Str(std::string* s, size_t max) {
    uint16_t length = 0;
    if (!U16(&length) || length > max || data_.size() < length)
      return false;
    s->assign(reinterpret_cast<const char*>(data_.data()), length);
    data_ = data_.subspan(length);
    return true;
  }
  bool done() const { return data_.empty(); }

 private:
  template <typename T>
  bool Uint(T* v) {
    if (data_.size() < sizeof(T))
      return false;
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      value = static_cast<T>((value << 8) | data_[i]);
    *v = value;
    data_ = data_.subspan(sizeof(T));
    return true;
  }

  std::span<const uint8_t> data_;
};

bool WriteBinding(Writer* w, const RelayBinding& b) {
  bool ok = w->Str(b.id, kRelayIdDigits) && w->Str(b.fingerprint, kMaxFingerprintChars);
  w->U64(b.issued_at_unix_s);
  return ok && w->Str(b.relay_spki, kMaxSpkiBytes) && w->Str(b.signature, kSignatureBytes);
}

bool ReadBinding(Parser* p, RelayBinding* b) {
  return p->Str(&b->id, kRelayIdDigits) && p->Str(&b->fingerprint, kMaxFingerprintChars) &&
         p->U64(&b->issued_at_unix_s) && p->Str(&b->relay_spki, kMaxSpkiBytes) &&
         p->Str(&b->signature, kSignatureBytes);
}

Error ProtocolError(std::string message) {
  return Error{ErrorCode::kRelayProtocol, "relay protocol: " + message};
}

}  // namespace

bool IsRelayId(std::string_view id) {
  return id.size() == kRelayIdDigits &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<uint8_t> BindingSignedBytes(const RelayBinding& binding) {
  Writer w;
  w.out().insert(w.out().end(), kBindingLabel, kBindingLabel + sizeof(kBindingLabel));
  w.Str(binding.id, 0xffff);
  w.Str(binding.fingerprint, 0xffff);
  w.U64(binding.issued_at_unix_s);
  return std::move(w.out());
}

std::vector<uint8_t> DeviceProofSignedBytes(std::span<const uint8_t> channel_binding) {
  std::vector<uint8_t> bytes(kDeviceProofLabel, kDeviceProofLabel + sizeof(kDeviceProofLabel));
  bytes.insert(bytes.end(), channel_binding.begin(), channel_binding.end());
  return bytes;
}

Expected<std::vector<uint8_t>> EncodeRelayMessage(const RelayMessage& m) {
  Writer w;
  w.U16(0);  // Length, patched below.
  w.U8(static_cast<uint8_t>(m.type));
  bool ok = true;
  switch (m.type) {
    case RelayMessageType::kRegister:
      ok = w.Str(m.device_spki, kMaxSpkiBytes) && w.Str(m.device_proof, kSignatureBytes);
      break;
    case RelayMessageType::kConnect:
      ok = w.Str(m.id, kRelayIdDigits);
      break;
    case RelayMessageType::kAccept:
      ok = w.Str(m.token, kRelayTokenBytes) && w.Str(m.device_spki, kMaxSpkiBytes) &&
           w.Str(m.device_proof, kSignatureBytes);
      break;
    case RelayMessageType::kIncoming:
      ok = w.Str(m.token, kRelayTokenBytes);
      break;
    case RelayMessageType::kPing:
    case RelayMessageType::kPong:
      w.U64(m.nonce);
      break;
    case RelayMessageType::kRegistered:
      ok = WriteBinding(&w, m.binding);
      w.U32(m.keepalive_interval_ms);
      break;
    case RelayMessageType::kPaired:
      ok = WriteBinding(&w, m.binding);
      break;
    case RelayMessageType::kRefused:
      w.U16(m.error_code);
      ok = w.Str(m.error_message, kMaxErrorMessageBytes);
      break;
    default:
      ok = false;
  }
  std::vector<uint8_t>& out = w.out();
  const size_t body = out.size() - kRelayHeaderBytes;
  if (!ok || body > kMaxRelayBodyBytes)
    return Error{ErrorCode::kInvalidArgument, "relay message field out of bounds"};
  out[0] = static_cast<uint8_t>(body >> 8);
  out[1] = static_cast<uint8_t>(body);
  return std::move(out);
}

Expected<RelayMessage> ParseRelayBody(std::span<const uint8_t> body) {
  Parser p(body);
  RelayMessage m;
  uint8_t type = 0;
  if (!p.U8(&type))
    return ProtocolError("empty message");
  m.type = static_cast<RelayMessageType>(type);
  bool ok = true;
  switch (m.type) {
    case RelayMessageType::kRegister:
      ok = p.Str(&m.device_spki, kMaxSpkiBytes) && p.Str(&m.device_proof, kSignatureBytes);
      break;
    case RelayMessageType::kConnect:
      ok = p.Str(&m.id, kRelayIdDigits);
      break;
    case RelayMessageType::kAccept:
      ok = p.Str(&m.token, kRelayTokenBytes) && m.token.size() == kRelayTokenBytes &&
           p.Str(&m.device_spki, kMaxSpkiBytes) && p.Str(&m.device_proof, kSignatureBytes);
      break;
    case RelayMessageType::kIncoming:
      ok = p.Str(&m.token, kRelayTokenBytes) && m.token.size() == kRelayTokenBytes;
      break;
    case RelayMessageType::kPing:
    case RelayMessageType::kPong:
      ok = p.U64(&m.nonce);
      break;
    case RelayMessageType::kRegistered:
      ok = ReadBinding(&p, &m.binding) && p.U32(&m.keepalive_interval_ms);
      break;
    case RelayMessageType::kPaired:
      ok = ReadBinding(&p, &m.binding);
      break;
    case RelayMessageType::kRefused:
      ok = p.U16(&m.error_code) && p.Str(&m.error_message, kMaxErrorMessageBytes);
      break;
    default:
      return ProtocolError("unknown message type " + std::to_string(type));
  }
  if (!ok)
    return ProtocolError("malformed message of type " + std::to_string(type));
  if (!p.done())
    return ProtocolError("trailing bytes after message of type " + std::to_string(type));
  return m;
}

RelayMessageReader::Result RelayMessageReader::Fail(std::string message) {
  failed_ = true;
  header_filled_ = 0;
  body_.clear();
  error_ = ProtocolError(std::move(message));
  return Result::kError;
}

size_t RelayMessageReader::bytes_wanted() const {
  if (header_filled_ < kRelayHeaderBytes)
    return kRelayHeaderBytes - header_filled_;
  return body_length_ - body_.size();
}

RelayMessageReader::Result RelayMessageReader::Read(std::span<const uint8_t>* input,
                                                    RelayMessage* out) {
  if (failed_)
    return Result::kError;
  while (!input->empty()) {
    if (header_filled_ < kRelayHeaderBytes) {
      const size_t n = std::min(kRelayHeaderBytes - header_filled_, input->size());
      std::memcpy(header_ + header_filled_, input->data(), n);
      header_filled_ += n;
      *input = input->subspan(n);
      if (header_filled_ < kRelayHeaderBytes)
        return Result::kNeedMore;
      body_length_ = (static_cast<size_t>(header_[0]) << 8) | header_[1];
      if (body_length_ == 0)
        return Fail("empty message");
      if (body_length_ > kMaxRelayBodyBytes)  // Checked before allocating.
        return Fail("message of " + std::to_string(body_length_) + " bytes is over the limit");
      body_.clear();
      body_.reserve(body_length_);
    }
    const size_t n = std::min(body_length_ - body_.size(), input->size());
    body_.insert(body_.end(), input->begin(), input->begin() + static_cast<ptrdiff_t>(n));
    *input = input->subspan(n);
    if (body_.size() == body_length_) {
      auto parsed = ParseRelayBody(body_);
      header_filled_ = 0;
      body_.clear();
      body_.shrink_to_fit();
      if (!parsed.ok()) {
        failed_ = true;
        error_ = parsed.error();
        return Result::kError;
      }
      *out = std::move(parsed).value();
      return Result::kMessage;
    }
  }
  return Result::kNeedMore;
}

}  // namespace lifeline
