// Relay building blocks: the message codec, binding signatures, pins, the ID store and
// the rate limiter.
#include <catch2/catch.hpp>

#include "net/relay/id_store.h"
#include "net/relay/rate_limiter.h"
#include "net/relay/relay_client.h"
#include "net/relay/relay_key.h"
#include "net/relay/relay_protocol.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

std::vector<uint8_t> Encode(const RelayMessage& message) {
  auto bytes = EncodeRelayMessage(message);
  REQUIRE(bytes.ok());
  return std::move(bytes).value();
}

RelayBinding SignedBinding(const RelayKey& key) {
  RelayBinding binding;
  binding.id = "123456789";
  binding.fingerprint = std::string(64, 'a');
  binding.issued_at_unix_s = 1'700'000'000;
  REQUIRE(key.Sign(&binding).ok());
  return binding;
}

TEST_CASE("Relay messages round-trip, in any pieces", "[relay]") {
  RelayMessage connect;
  connect.type = RelayMessageType::kConnect;
  connect.id = "987654321";
  RelayMessage refused;
  refused.type = RelayMessageType::kRefused;
  refused.error_code = 242;
  refused.error_message = "unknown or offline";
  std::vector<uint8_t> stream = Encode(connect);
  const auto second = Encode(refused);
  stream.insert(stream.end(), second.begin(), second.end());

  RelayMessageReader reader;
  std::vector<RelayMessage> out;
  for (uint8_t byte : stream) {  // One byte at a time.
    std::span<const uint8_t> input(&byte, 1);
    RelayMessage message;
    if (reader.Read(&input, &message) == RelayMessageReader::Result::kMessage)
      out.push_back(message);
  }
  REQUIRE(out.size() == 2);
  CHECK(out[0].type == RelayMessageType::kConnect);
  CHECK(out[0].id == "987654321");
  CHECK(out[1].error_code == 242);
  CHECK(out[1].error_message == "unknown or offline");
}

TEST_CASE("The relay parser refuses oversized, unknown and malformed messages", "[relay]") {
  auto fails = [](std::vector<uint8_t> bytes) {
    RelayMessageReader reader;
    std::span<const uint8_t> input(bytes);
    RelayMessage message;
    const auto result = reader.Read(&input, &message);
    return result == RelayMessageReader::Result::kError &&
           reader.error().code == ErrorCode::kRelayProtocol;
  };
  CHECK(fails({0xff, 0xff}));                 // 65535 bytes announced: refused before allocating.
  CHECK(fails({0x04, 0x01}));                 // Just over the 1 KiB limit.
  CHECK(fails({0x00, 0x00}));                 // Empty.
  CHECK(fails({0x00, 0x01, 99}));             // Unknown type.
  CHECK(fails({0x00, 0x03, 2, 0x00, 0x0a}));  // Connect: string longer than the message.
  CHECK(fails({0x00, 0x04, 4, 0, 0, 0}));     // Ping: nonce truncated.
  CHECK(fails({0x00, 0x02, 1, 7}));           // Register with trailing bytes.
  std::vector<uint8_t> short_token{0x00, 0x05, 3, 0x00, 0x02, 'a', 'b'};
  CHECK(fails(short_token));  // Accept: a token must be 32 bytes.
  // The oversize header is refused without waiting for (or holding) the body.
  RelayMessageReader reader;
  std::vector<uint8_t> header{0x10, 0x00};
  std::span<const uint8_t> input(header);
  RelayMessage message;
  CHECK(reader.Read(&input, &message) == RelayMessageReader::Result::kError);
  CHECK(reader.buffered_bytes() <= kRelayHeaderBytes);
}

TEST_CASE("ID bindings verify with the pinned key only", "[relay]") {
  auto key = RelayKey::Generate();
  REQUIRE(key.ok());
  auto other = RelayKey::Generate();
  REQUIRE(other.ok());
  const RelayBinding good = SignedBinding(*key);
  CHECK(VerifyRelayBinding(good, key->pin()).ok());

  SECTION("another relay's pin") {
    auto st = VerifyRelayBinding(good, other->pin());
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == ErrorCode::kRelayBindingInvalid);
  }
  SECTION("a changed ID") {
    RelayBinding bad = good;
    bad.id = "123456780";
    auto st = VerifyRelayBinding(bad, key->pin());
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == ErrorCode::kRelayBindingInvalid);
    CHECK(st.error().message.find("bad signature") != std::string::npos);
  }
  SECTION("a changed fingerprint or date") {
    RelayBinding bad = good;
    bad.fingerprint[0] = 'b';
    CHECK_FALSE(VerifyRelayBinding(bad, key->pin()).ok());
    bad = good;
    bad.issued_at_unix_s += 1;
    CHECK_FALSE(VerifyRelayBinding(bad, key->pin()).ok());
  }
  SECTION("a flipped signature bit") {
    RelayBinding bad = good;
    bad.signature[10] = static_cast<char>(bad.signature[10] ^ 1);
    CHECK_FALSE(VerifyRelayBinding(bad, key->pin()).ok());
  }
  SECTION("signed by another key that claims to be the pinned one") {
    RelayBinding forged = SignedBinding(*other);
    forged.relay_spki = key->spki();  // Pin matches, signature does not.
    CHECK_FALSE(VerifyRelayBinding(forged, key->pin()).ok());
  }
}

TEST_CASE("Relay pins are 64 hex digits; colons and case are forgiven", "[relay]") {
  const std::string pin(64, 'A');
  auto normalized = NormalizeRelayPin(pin);
  REQUIRE(normalized.ok());
  CHECK(*normalized == std::string(64, 'a'));
  std::string with_colons;
  for (int i = 0; i < 32; ++i)
    with_colons += std::string(i ? ":" : "") + "0f";
  CHECK(NormalizeRelayPin(with_colons).ok());
  CHECK(NormalizeRelayPin("abc").error().code == ErrorCode::kInvalidArgument);
  CHECK_FALSE(NormalizeRelayPin(std::string(63, 'a') + "g").ok());
}

TEST_CASE("The SQLite ID store keeps one stable ID per key across reopening", "[relay]") {
  testing::TempDir dir;
  const std::string path = dir.File("ids.sqlite");
  std::string first_id;
  {
    auto store = OpenSqliteIdStore(path);
    REQUIRE(store.ok());
    auto a = (*store)->LookupOrCreate(std::string(64, 'a'), 1000);
    REQUIRE(a.ok());
    CHECK(IsRelayId(a->id));
    CHECK(a->id[0] != '0');
    auto again = (*store)->LookupOrCreate(std::string(64, 'a'), 2000);
    REQUIRE(again.ok());
    CHECK(again->id == a->id);
    CHECK(again->issued_at_unix_s == 1000);
    auto b = (*store)->LookupOrCreate(std::string(64, 'b'), 3000);
    REQUIRE(b.ok());
    CHECK(b->id != a->id);
    CHECK((*store)->Count().value() == 2);
    first_id = a->id;
  }
  auto reopened = OpenSqliteIdStore(path);
  REQUIRE(reopened.ok());
  auto a = (*reopened)->LookupOrCreate(std::string(64, 'a'), 9000);
  REQUIRE(a.ok());
  CHECK(a->id == first_id);
  CHECK(a->issued_at_unix_s == 1000);

  auto bad = OpenSqliteIdStore(dir.File("no/such/folder/ids.sqlite"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kFileIo);
}

TEST_CASE("Token buckets limit per key and refill with time", "[relay]") {
  RateLimiter limiter(/*rate_per_s=*/2, /*burst=*/3, /*max_keys=*/2);
  int64_t now = 1'000'000;
  CHECK(limiter.Allow("a", now));
  CHECK(limiter.Allow("a", now));
  CHECK(limiter.Allow("a", now));
  CHECK_FALSE(limiter.Allow("a", now));  // Burst used up.
  CHECK(limiter.Allow("b", now));        // Other keys are not affected.
  CHECK(limiter.Allow("b", now));
  CHECK(limiter.Allow("b", now));
  now += 500'000;  // Half a second: one token back.
  CHECK(limiter.Allow("a", now));
  CHECK_FALSE(limiter.Allow("a", now));
  // Full table: a third key is refused until a bucket refills completely.
  CHECK_FALSE(limiter.Allow("c", now));
  now += 10'000'000;
  CHECK(limiter.Allow("c", now));
  CHECK(limiter.size() <= 2);
}

TEST_CASE("Relay keys are stored once and load back with the same pin", "[relay]") {
  testing::TempDir dir;
  auto created = RelayKey::Load(dir.File("key.pem"), dir.File("cert.pem"), true);
  REQUIRE(created.ok());
  CHECK(created->pin().size() == 64);
  auto loaded = RelayKey::Load(dir.File("key.pem"), dir.File("cert.pem"), false);
  REQUIRE(loaded.ok());
  CHECK(loaded->pin() == created->pin());
  auto missing = RelayKey::Load(dir.File("none.pem"), dir.File("cert.pem"), false);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("none.pem") != std::string::npos);
}

}  // namespace
}  // namespace lifeline
