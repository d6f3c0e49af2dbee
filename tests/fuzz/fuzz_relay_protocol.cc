// Fuzz target: the relay's message parser (RelayMessageReader), which the relay server
// runs on everything a client sends before a splice, and clients on the relay's answers.
//
// The input is fed whole, in pieces, and byte by byte: all must give the same messages
// and the same failure. Every parsed message re-encodes to the bytes it came from, and the
// reader never holds more than a header plus the body limit.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "net/relay/relay_protocol.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

using lifeline::RelayMessage;
using lifeline::RelayMessageReader;

void Check(bool condition) {
  if (!condition)
    __builtin_trap();
}

struct Outcome {
  std::vector<std::vector<uint8_t>> messages;  // Re-encoded.
  bool failed = false;
};

Outcome Feed(std::span<const uint8_t> data, uint64_t state, size_t max_piece) {
  Outcome outcome;
  RelayMessageReader reader;
  while (!data.empty() && !outcome.failed) {
    size_t piece = data.size();
    if (max_piece > 0) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      piece = std::min(data.size(), 1 + static_cast<size_t>((state >> 33) % max_piece));
    }
    std::span<const uint8_t> input = data.first(piece);
    data = data.subspan(piece);
    while (!input.empty()) {
      RelayMessage message;
      const auto result = reader.Read(&input, &message);
      Check(reader.buffered_bytes() <= lifeline::kRelayHeaderBytes + lifeline::kMaxRelayBodyBytes);
      Check(reader.bytes_wanted() > 0);
      if (result == RelayMessageReader::Result::kNeedMore) {
        Check(input.empty());
        break;
      }
      if (result == RelayMessageReader::Result::kError) {
        outcome.failed = true;
        Check(reader.error().code == lifeline::ErrorCode::kRelayProtocol);
        std::span<const uint8_t> more = data;
        Check(reader.Read(&more, &message) == RelayMessageReader::Result::kError);
        break;
      }
      auto encoded = lifeline::EncodeRelayMessage(message);
      Check(encoded.ok());
      outcome.messages.push_back(std::move(encoded).value());
    }
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
  }
  // Parsed messages re-encode to exactly the bytes they were read from.
  size_t offset = 0;
  for (const auto& encoded : whole.messages) {
    Check(offset + encoded.size() <= size);
    Check(std::equal(encoded.begin(), encoded.end(), data + offset));
    offset += encoded.size();
  }
  return 0;
}

namespace lifeline::fuzz {

std::vector<std::vector<uint8_t>> Seeds() {
  std::vector<RelayMessage> messages(8);
  messages[0].type = RelayMessageType::kRegister;
  messages[0].device_spki = std::string(44, 'p');
  messages[0].device_proof = std::string(64, 'q');
  messages[1].type = RelayMessageType::kConnect;
  messages[1].id = "123456789";
  messages[2].type = RelayMessageType::kAccept;
  messages[2].token = std::string(kRelayTokenBytes, 't');
  messages[2].device_spki = std::string(44, 'p');
  messages[2].device_proof = std::string(64, 'q');
  messages[3].type = RelayMessageType::kPing;
  messages[3].nonce = 42;
  messages[4].type = RelayMessageType::kRegistered;
  messages[4].binding = {"123456789", std::string(64, 'a'), 1700000000, std::string(44, 'k'),
                         std::string(64, 's')};
  messages[4].keepalive_interval_ms = 15000;
  messages[5].type = RelayMessageType::kIncoming;
  messages[5].token = std::string(kRelayTokenBytes, 'x');
  messages[6].type = RelayMessageType::kPaired;
  messages[6].binding = messages[4].binding;
  messages[7].type = RelayMessageType::kRefused;
  messages[7].error_code = 242;
  messages[7].error_message = "unknown or offline";
  std::vector<std::vector<uint8_t>> seeds;
  std::vector<uint8_t> all;
  for (const RelayMessage& message : messages) {
    auto encoded = EncodeRelayMessage(message);
    if (!encoded.ok())
      std::abort();
    seeds.push_back(*encoded);
    all.insert(all.end(), encoded->begin(), encoded->end());
  }
  seeds.push_back(all);
  return seeds;
}

}  // namespace lifeline::fuzz
