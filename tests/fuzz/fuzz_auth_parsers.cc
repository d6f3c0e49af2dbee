// Fuzz target: the text parsers of net/auth (one-time password normalisation, Base32,
// otpauth URIs) must turn any input into a value or a clear error, and what they accept
// must survive a round trip.
#include <string>
#include <string_view>

#include "net/auth/one_time_password.h"
#include "net/auth/totp.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

void Check(bool condition) {
  if (!condition)
    __builtin_trap();
}

bool IsError(lifeline::ErrorCode code, const lifeline::Error& error) {
  return error.code == code && !error.message.empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lifeline;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto password = NormalizeOneTimePassword(text);
  if (password.ok()) {
    Check(password->size() == kOneTimePasswordLength);
    for (char c : *password)
      Check(kOneTimePasswordAlphabet.find(c) != std::string_view::npos);
    Check(NormalizeOneTimePassword(*password).value() == *password);
    Check(NormalizeOneTimePassword(FormatForDisplay(*password)).value() == *password);
  } else {
    Check(IsError(ErrorCode::kAuthInvalidInput, password.error()));
  }

  auto bytes = Base32Decode(text);
  if (bytes.ok()) {
    const std::string encoded = Base32Encode(*bytes);
    Check(Base32Decode(encoded).value() == *bytes);
    // The canonical form is the input without spaces and padding, in upper case.
    std::string canonical;
    for (char c : text) {
      if (c == ' ' || c == '=')
        continue;
      canonical.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
    Check(encoded == canonical);
  } else {
    Check(IsError(ErrorCode::kAuthInvalidInput, bytes.error()));
  }

  auto uri = ParseOtpauthUri(text);
  if (uri.ok()) {
    Check(!uri->account.empty());
    Check(uri->issuer.find(':') == std::string::npos);
    Check(uri->secret.size() >= kMinTotpSecretSize && uri->secret.size() <= kMaxTotpSecretSize);
    Check(ValidateTotpParams(uri->params).ok());
    const std::string built = BuildOtpauthUri(uri->issuer, uri->account, uri->secret, uri->params);
    auto again = ParseOtpauthUri(built);
    Check(again.ok());
    Check(again->issuer == uri->issuer);
    Check(again->account == uri->account);
    Check(again->secret == uri->secret);
    Check(again->params.algorithm == uri->params.algorithm);
    Check(again->params.digits == uri->params.digits);
    Check(again->params.period_s == uri->params.period_s);
    Check(BuildOtpauthUri(again->issuer, again->account, again->secret, again->params) == built);
  } else {
    Check(IsError(ErrorCode::kAuthInvalidInput, uri.error()));
  }
  return 0;
}

namespace lifeline::fuzz {
std::vector<std::vector<uint8_t>> Seeds() {
  const char* texts[] = {
      "ABCD-EFGH-JK",
      "abcd efgh jk",
      "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
      "mzxw6yq=",
      "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&"
      "issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
      "otpauth://totp/Lifeline:123%20456%20789?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"
      "issuer=Lifeline&algorithm=SHA256&digits=8&period=60",
      "OTPAUTH://TOTP/Big%20Corporation%3A%20%20alice@bigco.com?secret="
      "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=Big+Corporation&image=x#f",
      "otpauth://totp/%C3%84%E2%82%AC%F0%9F%98%80?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
  };
  std::vector<std::vector<uint8_t>> seeds;
  for (const char* text : texts) {
    const std::string_view view(text);
    seeds.emplace_back(view.begin(), view.end());
  }
  return seeds;
}
}  // namespace lifeline::fuzz
