#include "net/auth/totp.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

namespace lifeline {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Ascii(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

// RFC 6238 Appendix B seeds.
const std::string kSeed1 = "12345678901234567890";
const std::string kSeed256 = "12345678901234567890123456789012";
const std::string kSeed512 = "1234567890123456789012345678901234567890123456789012345678901234";

TEST_CASE("RFC 4226 HOTP vectors", "[totp]") {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t counter = 0; counter < 10; ++counter) {
    INFO("counter " << counter);
    CHECK(ComputeHotp(Ascii(kSeed1), counter).value() == expected[counter]);
  }
  CHECK(ComputeHotp(Ascii(kSeed1), 0, 7).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("RFC 6238 Appendix B vectors for SHA-1, SHA-256 and SHA-512", "[totp]") {
  struct Row {
    int64_t time;
    const char* sha1;
    const char* sha256;
    const char* sha512;
  };
  const Row rows[] = {
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  };
  for (const Row& row : rows) {
    INFO("time " << row.time);
    CHECK(ComputeTotp(Ascii(kSeed1), row.time, {TotpAlgorithm::kSha1, 8, 30}).value() == row.sha1);
    CHECK(ComputeTotp(Ascii(kSeed256), row.time, {TotpAlgorithm::kSha256, 8, 30}).value() ==
          row.sha256);
    CHECK(ComputeTotp(Ascii(kSeed512), row.time, {TotpAlgorithm::kSha512, 8, 30}).value() ==
          row.sha512);
    // 6 digits are the last six.
    CHECK(ComputeTotp(Ascii(kSeed1), row.time).value() == std::string(row.sha1).substr(2));
  }
  CHECK(ComputeTotp(Ascii(kSeed1), -1).status().code() == ErrorCode::kInvalidArgument);
  CHECK(ComputeTotp(Ascii(kSeed1), 59, {TotpAlgorithm::kSha1, 6, 0}).status().code() ==
        ErrorCode::kInvalidArgument);
}

TotpVerifier MakeVerifier(std::optional<uint64_t> last = {}) {
  auto verifier = TotpVerifier::Create(Ascii(kSeed1), {}, last);
  REQUIRE(verifier.ok());
  return std::move(verifier).value();
}

std::string CodeAtStep(uint64_t step) {
  return ComputeHotp(Ascii(kSeed1), step).value();
}

constexpr int64_t kNow = 1234567890;  // The first second of step 41152263.
constexpr uint64_t kStep = kNow / 30;

TEST_CASE("Verifier accepts the current step and one step either side", "[totp]") {
  for (int delta : {-1, 0, 1}) {
    INFO("delta " << delta);
    TotpVerifier verifier = MakeVerifier();
    const uint64_t step = kStep + static_cast<uint64_t>(static_cast<int64_t>(delta));
    CHECK(verifier.Verify(CodeAtStep(step), kNow).ok());
    CHECK(verifier.last_accepted_step() == step);
  }
  // Anywhere inside the current step, spaces allowed.
  TotpVerifier verifier = MakeVerifier();
  const std::string code = CodeAtStep(kStep);
  CHECK(verifier.Verify(code.substr(0, 3) + " " + code.substr(3), kNow + 29).ok());
}

TEST_CASE("Verifier rejects codes two or more steps away", "[totp]") {
  for (int delta : {-3, -2, 2, 3}) {
    INFO("delta " << delta);
    TotpVerifier verifier = MakeVerifier();
    const uint64_t step = kStep + static_cast<uint64_t>(static_cast<int64_t>(delta));
    Status status = verifier.Verify(CodeAtStep(step), kNow);
    CHECK(status.code() == ErrorCode::kAuthFailed);
    CHECK_FALSE(verifier.last_accepted_step().has_value());
  }
  TotpVerifier verifier = MakeVerifier();
  std::string wrong = CodeAtStep(kStep);
  wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
  CHECK(verifier.Verify(wrong, kNow).code() == ErrorCode::kAuthFailed);
}

TEST_CASE("Verifier never accepts an accepted step, or an earlier one, again", "[totp]") {
  TotpVerifier verifier = MakeVerifier();
  REQUIRE(verifier.Verify(CodeAtStep(kStep), kNow).ok());
  Status replay = verifier.Verify(CodeAtStep(kStep), kNow + 5);
  CHECK(replay.code() == ErrorCode::kAuthFailed);
  CHECK(replay.error().message.find("already used") != std::string::npos);
  // The previous step is inside the window but older than the accepted one.
  CHECK(verifier.Verify(CodeAtStep(kStep - 1), kNow).code() == ErrorCode::kAuthFailed);
  // The next step is fresh.
  CHECK(verifier.Verify(CodeAtStep(kStep + 1), kNow + 30).ok());
  CHECK(verifier.last_accepted_step() == kStep + 1);

  // The persisted step survives a "restart".
  TotpVerifier restored = MakeVerifier(kStep + 1);
  CHECK(restored.Verify(CodeAtStep(kStep + 1), kNow + 30).code() == ErrorCode::kAuthFailed);
  TotpVerifier reset = MakeVerifier();
  reset.set_last_accepted_step(kStep + 1);
  CHECK(reset.Verify(CodeAtStep(kStep + 1), kNow + 30).code() == ErrorCode::kAuthFailed);
  reset.set_last_accepted_step(std::nullopt);
  CHECK(reset.Verify(CodeAtStep(kStep + 1), kNow + 30).ok());
}

TEST_CASE("Verifier validates the typed code and its own setup", "[totp]") {
  TotpVerifier verifier = MakeVerifier();
  for (const char* typed : {"", "12345", "1234567", "12345a", "12-3456", "１２３４５６"}) {
    INFO("typed \"" << typed << "\"");
    CHECK(verifier.Verify(typed, kNow).code() == ErrorCode::kAuthInvalidInput);
  }
  CHECK(verifier.Verify("123456", -1).code() == ErrorCode::kInvalidArgument);
  CHECK(TotpVerifier::Create(Bytes(15, 1)).status().code() == ErrorCode::kInvalidArgument);
  CHECK(TotpVerifier::Create(Bytes(16, 1)).ok());
  CHECK(TotpVerifier::Create(Bytes(20, 1), {TotpAlgorithm::kSha1, 7, 30}).status().code() ==
        ErrorCode::kInvalidArgument);

  // 8 digits and SHA-512 work end to end.
  auto eight = TotpVerifier::Create(Ascii(kSeed512), {TotpAlgorithm::kSha512, 8, 30});
  REQUIRE(eight.ok());
  CHECK(eight->Verify("93441116", 1234567890).ok());
}

TEST_CASE("Base32 encodes and decodes per RFC 4648", "[totp]") {
  CHECK(Base32Encode(Ascii(kSeed1)) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  // RFC 4648 §10 vectors, without padding.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [plain, encoded] : vectors) {
    INFO(plain);
    CHECK(Base32Encode(Ascii(plain)) == encoded);
    CHECK(Base32Decode(encoded).value() == Ascii(plain));
  }
  CHECK(Base32Decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").value() == Ascii(kSeed1));
  CHECK(Base32Decode("MZXW6YQ=").value() == Ascii("foob"));
  CHECK(Base32Decode("MZXW6===").value() == Ascii("foo"));

  for (const char* bad : {"MZXW6YQ1", "MZXW-6YQ", "MZ=XW", "MZX", "M", "MZXW6Y", "MZ\n",
                          "MZXW6YR" /* non-zero trailing bits */}) {
    INFO("bad \"" << bad << "\"");
    CHECK(Base32Decode(bad).status().code() == ErrorCode::kAuthInvalidInput);
  }

  for (size_t size = 0; size < 40; ++size) {
    Bytes data(size);
    for (size_t i = 0; i < size; ++i)
      data[i] = static_cast<uint8_t>(i * 37 + size);
    CHECK(Base32Decode(Base32Encode(data)).value() == data);
  }
}

TEST_CASE("Generated TOTP secrets have 160 random bits", "[totp]") {
  std::set<Bytes> seen;
  for (int i = 0; i < 100; ++i) {
    auto secret = GenerateTotpSecret();
    REQUIRE(secret.ok());
    CHECK(secret->size() == 20);
    seen.insert(*secret);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("otpauth URI round trip", "[totp]") {
  auto secret = GenerateTotpSecret();
  REQUIRE(secret.ok());
  const std::string uri = BuildOtpauthUri("Lifeline", "123 456 789", *secret);
  CHECK(uri == "otpauth://totp/Lifeline:123%20456%20789?secret=" + Base32Encode(*secret) +
                   "&issuer=Lifeline&algorithm=SHA1&digits=6&period=30");
  auto parsed = ParseOtpauthUri(uri);
  REQUIRE(parsed.ok());
  CHECK(parsed->issuer == "Lifeline");
  CHECK(parsed->account == "123 456 789");
  CHECK(parsed->secret == *secret);
  CHECK(parsed->params.algorithm == TotpAlgorithm::kSha1);
  CHECK(parsed->params.digits == 6);
  CHECK(parsed->params.period_s == 30);

  // Special characters survive; other parameters too.
  const std::string odd =
      BuildOtpauthUri("Ä&B Co", "a:b?c#d%e+f", Ascii(kSeed256), {TotpAlgorithm::kSha256, 8, 60});
  auto odd_parsed = ParseOtpauthUri(odd);
  REQUIRE(odd_parsed.ok());
  CHECK(odd_parsed->issuer == "Ä&B Co");
  CHECK(odd_parsed->account == "a:b?c#d%e+f");
  CHECK(odd_parsed->secret == Ascii(kSeed256));
  CHECK(odd_parsed->params.algorithm == TotpAlgorithm::kSha256);
  CHECK(odd_parsed->params.digits == 8);
  CHECK(odd_parsed->params.period_s == 60);

  // Without an issuer.
  auto plain = ParseOtpauthUri(BuildOtpauthUri("", "host", Ascii(kSeed1)));
  REQUIRE(plain.ok());
  CHECK(plain->issuer.empty());
  CHECK(plain->account == "host");
}

TEST_CASE("The Google Authenticator wiki example parses", "[totp]") {
  const std::string wiki =
      "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&"
      "issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30";
  auto parsed = ParseOtpauthUri(wiki);
  REQUIRE(parsed.ok());
  CHECK(parsed->issuer == "ACME Co");
  CHECK(parsed->account == "john.doe@email.com");
  CHECK(Base32Encode(parsed->secret) == "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ");
  CHECK(parsed->params.algorithm == TotpAlgorithm::kSha1);
  CHECK(parsed->params.digits == 6);
  CHECK(parsed->params.period_s == 30);
  // We build exactly the same text.
  CHECK(BuildOtpauthUri(parsed->issuer, parsed->account, parsed->secret, parsed->params) == wiki);

  // Variants from the same page: defaults, encoded colon, spaces before the account.
  auto minimal = ParseOtpauthUri(
      "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
  REQUIRE_FALSE(minimal.ok());  // 80-bit secret: below our 128-bit minimum.
  auto encoded_colon = ParseOtpauthUri(
      "OTPAUTH://TOTP/Big%20Corporation%3A%20%20alice@bigco.com?secret="
      "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ");
  REQUIRE(encoded_colon.ok());
  CHECK(encoded_colon->issuer == "Big Corporation");
  CHECK(encoded_colon->account == "alice@bigco.com");
  auto plus = ParseOtpauthUri(
      "otpauth://totp/ACME+Co:x?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME+Co");
  // '+' is literal in the label but a space in the parameter: they differ.
  CHECK_FALSE(plus.ok());
}

TEST_CASE("Malformed otpauth URIs are rejected with a reason", "[totp]") {
  const std::string s = "secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ";
  struct Case {
    std::string uri;
    const char* reason;
  };
  const Case cases[] = {
      {"", "otpauth://"},
      {"http://totp/a?" + s, "otpauth://"},
      {"otpauth://hotp/a?" + s + "&counter=1", "HOTP"},
      {"otpauth://xotp/a?" + s, "type"},
      {"otpauth://totp", "label"},
      {"otpauth://totp/a", "secret"},
      {"otpauth://totp/a?issuer=x", "secret is missing"},
      {"otpauth://totp/?" + s, "account"},
      {"otpauth://totp/Issuer:?" + s, "account"},
      {"otpauth://totp/a?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXB0Z", "Base32"},
      {"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "128"},
      {"otpauth://totp/a?" + s + "&" + s, "repeated"},
      {"otpauth://totp/a?" + s + "&digits=7", "digits"},
      {"otpauth://totp/a?" + s + "&digits=", "digits"},
      {"otpauth://totp/a?" + s + "&digits=06x", "digits"},
      {"otpauth://totp/a?" + s + "&period=0", "period"},
      {"otpauth://totp/a?" + s + "&period=99999999999", "period"},
      {"otpauth://totp/a?" + s + "&algorithm=MD5", "algorithm"},
      {"otpauth://totp/A:b?" + s + "&issuer=B", "differs"},
      {"otpauth://totp/b?" + s + "&issuer=A%3AB", "':'"},
      {"otpauth://totp/a%ZZ?" + s, "percent"},
      {"otpauth://totp/a%4?" + s, "percent"},
      {"otpauth://totp/a?" + s + "&issuer=%", "percent"},
      {"otpauth://totp/a%0Ab?" + s, "UTF-8"},
      {"otpauth://totp/a%C3?" + s, "UTF-8"},
      {"otpauth://totp/a?" + s + "&issuer=%FF", "UTF-8"},
      {"otpauth://totp/a?" + s + "&x=" + std::string(5000, 'y'), "4096"},
      {"otpauth://totp/a#?" + s, "no parameters"},  // Everything after '#' is a fragment.
  };
  for (const Case& c : cases) {
    INFO(c.uri);
    auto parsed = ParseOtpauthUri(c.uri);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kAuthInvalidInput);
    CHECK(parsed.error().message.find(c.reason) != std::string::npos);
    // The secret never appears in messages.
    CHECK(parsed.error().message.find("HXDMVJEC") == std::string::npos);
  }
  // Unknown parameters and a fragment are ignored.
  CHECK(ParseOtpauthUri("otpauth://totp/a?" + s + "&image=https%3A%2F%2Fx&foo#frag").ok());
}

}  // namespace
}  // namespace lifeline
