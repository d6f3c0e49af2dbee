#include "net/auth/totp.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <utility>

#include "base/utf8.h"
#include "net/openssl_handles.h"
#include "net/posix_util.h"

namespace lifeline {
namespace {

using net_internal::PercentDecode;

using openssl::EvpMacCtxPtr;
using openssl::EvpMacPtr;

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr size_t kMaxUriSize = 4096;

Error InvalidUri(std::string_view what) {
  return Error{ErrorCode::kAuthInvalidInput, "otpauth URI: " + std::string(what)};
}

const char* DigestName(TotpAlgorithm algorithm) {
  switch (algorithm) {
    case TotpAlgorithm::kSha1:
      return "SHA1";
    case TotpAlgorithm::kSha256:
      return "SHA256";
    case TotpAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA1";
}

// HMAC(secret, message) with the algorithm's digest; `out` receives the whole MAC.
bool Hmac(TotpAlgorithm algorithm,
          std::span<const uint8_t> secret,
          std::span<const uint8_t> message,
          std::vector<uint8_t>& out) {
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac)
    return false;
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx)
    return false;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(DigestName(algorithm)), 0),
      OSSL_PARAM_END};
  // EVP_MAC_init accepts a null key only when one was set before; HMAC allows an empty key
  // through a non-null pointer.
  static const uint8_t kEmpty = 0;
  const uint8_t* key = secret.empty() ? &kEmpty : secret.data();
  if (EVP_MAC_init(ctx.get(), key, secret.size(), params) != 1)
    return false;
  out.assign(EVP_MAX_MD_SIZE, 0);
  size_t size = 0;
  if (EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &size, out.size()) != 1) {
    return false;
  }
  out.resize(size);
  return true;
}

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

// Unreserved characters (RFC 3986) and '@' stay literal; everything else is %XX.
std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool literal = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                         c == '@';
    if (literal) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

// Valid UTF-8 (no overlong forms, no surrogates, <= U+10FFFF) without C0/C1 controls or DEL.
bool IsDisplayableUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        return false;
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (text.size() - i <= extra)
      return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::optional<int> ParseSmallInt(std::string_view text) {
  if (text.empty() || text.size() > 6)
    return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

std::string_view ToString(TotpAlgorithm algorithm) {
  return DigestName(algorithm);
}

Status ValidateTotpParams(const TotpParams& params) {
  if (params.digits != 6 && params.digits != 8)
    return Status(ErrorCode::kInvalidArgument, "TOTP codes have 6 or 8 digits");
  if (params.period_s < kMinTotpPeriodSeconds || params.period_s > kMaxTotpPeriodSeconds)
    return Status(ErrorCode::kInvalidArgument, "TOTP period out of range");
  switch (params.algorithm) {
    case TotpAlgorithm::kSha1:
    case TotpAlgorithm::kSha256:
    case TotpAlgorithm::kSha512:
      return Status::Ok();
  }
  return Status(ErrorCode::kInvalidArgument, "unknown TOTP algorithm");
}

Expected<std::string> ComputeHotp(std::span<const uint8_t> secret,
                                  uint64_t counter,
                                  int digits,
                                  TotpAlgorithm algorithm) {
  if (digits != 6 && digits != 8)
    return Error{ErrorCode::kInvalidArgument, "HOTP codes have 6 or 8 digits"};
  std::array<uint8_t, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<size_t>(i)] = static_cast<uint8_t>(counter);
    counter >>= 8;
  }
  std::vector<uint8_t> mac;
  if (!Hmac(algorithm, secret, message, mac) || mac.size() < 20)
    return Error{ErrorCode::kInternal, "OpenSSL failed: HMAC"};
  // Dynamic truncation (RFC 4226 §5.3).
  const size_t offset = mac.back() & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                          static_cast<uint32_t>(mac[offset + 3]);
  OPENSSL_cleanse(mac.data(), mac.size());
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i)
    modulus *= 10;
  uint32_t value = binary % modulus;
  std::string code(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    code[static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return code;
}

Expected<std::string> ComputeTotp(std::span<const uint8_t> secret,
                                  int64_t unix_time_s,
                                  const TotpParams& params) {
  if (Status valid = ValidateTotpParams(params); !valid.ok())
    return valid.error();
  if (unix_time_s < 0)
    return Error{ErrorCode::kInvalidArgument, "TOTP time before 1970"};
  const auto step = static_cast<uint64_t>(unix_time_s / params.period_s);
  return ComputeHotp(secret, step, params.digits, params.algorithm);
}

std::string Base32Encode(std::span<const uint8_t> data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
    buffer &= (1u << bits) - 1;
  }
  if (bits > 0)
    out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

Expected<std::vector<uint8_t>> Base32Decode(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  size_t symbols = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ')
      continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int value = Base32Value(c);
    if (value < 0)
      return Error{ErrorCode::kAuthInvalidInput,
                   "Base32 text contains a character outside A-Z, 2-7"};
    if (padding)
      return Error{ErrorCode::kAuthInvalidInput, "Base32 padding '=' before the end"};
    ++symbols;
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
      buffer &= (1u << bits) - 1;
    }
  }
  const size_t tail = symbols % 8;
  if (tail == 1 || tail == 3 || tail == 6) {
    OPENSSL_cleanse(out.data(), out.size());
    return Error{ErrorCode::kAuthInvalidInput, "Base32 text has an impossible length"};
  }
  if (buffer != 0) {
    OPENSSL_cleanse(out.data(), out.size());
    return Error{ErrorCode::kAuthInvalidInput, "Base32 text has non-zero trailing bits"};
  }
  return out;
}

Expected<std::vector<uint8_t>> GenerateTotpSecret() {
  std::vector<uint8_t> secret(kTotpSecretSize);
  if (RAND_priv_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return Error{ErrorCode::kInternal, "the random number generator failed"};
  }
  return secret;
}

std::string BuildOtpauthUri(std::string_view issuer,
                            std::string_view account,
                            std::span<const uint8_t> secret,
                            const TotpParams& params) {
  std::string uri = "otpauth://totp/";
  if (!issuer.empty())
    uri += PercentEncode(issuer) + ":";
  uri += PercentEncode(account);
  uri += "?secret=" + Base32Encode(secret);
  if (!issuer.empty())
    uri += "&issuer=" + PercentEncode(issuer);
  uri += "&algorithm=" + std::string(ToString(params.algorithm));
  uri += "&digits=" + std::to_string(params.digits);
  uri += "&period=" + std::to_string(params.period_s);
  return uri;
}

Expected<OtpauthUri> ParseOtpauthUri(std::string_view uri) {
  if (uri.size() > kMaxUriSize)
    return InvalidUri("longer than 4096 characters");
  constexpr std::string_view kScheme = "otpauth://";
  if (uri.size() < kScheme.size() || !EqualsIgnoreAsciiCase(uri.substr(0, kScheme.size()), kScheme))
    return InvalidUri("does not start with otpauth://");
  std::string_view rest = uri.substr(kScheme.size());
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);  // A fragment is not part of the URI's data.
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos)
    return InvalidUri("no type and label");
  const std::string_view type = rest.substr(0, slash);
  if (EqualsIgnoreAsciiCase(type, "hotp"))
    return InvalidUri("counter-based (HOTP) codes are not supported, only TOTP");
  if (!EqualsIgnoreAsciiCase(type, "totp"))
    return InvalidUri("the type is not totp");
  rest = rest.substr(slash + 1);
  const size_t question = rest.find('?');
  if (question == std::string_view::npos)
    return InvalidUri("no parameters (the secret is missing)");
  std::string_view query = rest.substr(question + 1);

  OtpauthUri result;
  auto label = PercentDecode(rest.substr(0, question), /*plus_is_space=*/false);
  if (!label)
    return InvalidUri("bad percent-encoding in the label");
  std::string label_issuer;
  std::string account = *label;
  bool has_label_issuer = false;
  if (const size_t colon = label->find(':'); colon != std::string::npos) {
    label_issuer = label->substr(0, colon);
    account = label->substr(colon + 1);
    has_label_issuer = true;
  }
  const size_t first = account.find_first_not_of(' ');
  account = first == std::string::npos ? std::string() : account.substr(first);
  if (account.empty())
    return InvalidUri("the account name is empty");
  if (!IsDisplayableUtf8(account) || !IsDisplayableUtf8(label_issuer))
    return InvalidUri("the label is not printable UTF-8");

  bool seen_secret = false, seen_issuer = false, seen_algorithm = false, seen_digits = false,
       seen_period = false;
  std::string param_issuer;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty())
      continue;
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    auto value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                      /*plus_is_space=*/true);
    if (!value)
      return InvalidUri("bad percent-encoding in a parameter");
    auto once = [&](bool& seen) {
      const bool repeated = seen;
      seen = true;
      return !repeated;
    };
    if (EqualsIgnoreAsciiCase(key, "secret")) {
      if (!once(seen_secret))
        return InvalidUri("repeated secret");
      auto secret = Base32Decode(*value);
      OPENSSL_cleanse(value->data(), value->size());
      if (!secret.ok())
        return InvalidUri("the secret is not Base32");
      if (secret->size() < kMinTotpSecretSize || secret->size() > kMaxTotpSecretSize) {
        OPENSSL_cleanse(secret->data(), secret->size());
        return InvalidUri("the secret must have 128 to 1024 bits");
      }
      result.secret = std::move(secret).value();
    } else if (EqualsIgnoreAsciiCase(key, "issuer")) {
      if (!once(seen_issuer))
        return InvalidUri("repeated issuer");
      if (!IsDisplayableUtf8(*value))
        return InvalidUri("the issuer is not printable UTF-8");
      param_issuer = *value;
    } else if (EqualsIgnoreAsciiCase(key, "algorithm")) {
      if (!once(seen_algorithm))
        return InvalidUri("repeated algorithm");
      if (EqualsIgnoreAsciiCase(*value, "SHA1"))
        result.params.algorithm = TotpAlgorithm::kSha1;
      else if (EqualsIgnoreAsciiCase(*value, "SHA256"))
        result.params.algorithm = TotpAlgorithm::kSha256;
      else if (EqualsIgnoreAsciiCase(*value, "SHA512"))
        result.params.algorithm = TotpAlgorithm::kSha512;
      else
        return InvalidUri("algorithm must be SHA1, SHA256 or SHA512");
    } else if (EqualsIgnoreAsciiCase(key, "digits")) {
      if (!once(seen_digits))
        return InvalidUri("repeated digits");
      const auto digits = ParseSmallInt(*value);
      if (!digits || (*digits != 6 && *digits != 8))
        return InvalidUri("digits must be 6 or 8");
      result.params.digits = *digits;
    } else if (EqualsIgnoreAsciiCase(key, "period")) {
      if (!once(seen_period))
        return InvalidUri("repeated period");
      const auto period = ParseSmallInt(*value);
      if (!period || *period < kMinTotpPeriodSeconds || *period > kMaxTotpPeriodSeconds)
        return InvalidUri("period must be 1 to 3600 seconds");
      result.params.period_s = *period;
    }
    // Other parameters (image, counter, ...) are ignored.
  }
  if (!seen_secret)
    return InvalidUri("the secret is missing");
  if (has_label_issuer && seen_issuer && label_issuer != param_issuer)
    return InvalidUri("the issuer parameter differs from the label");
  result.issuer = has_label_issuer ? label_issuer : param_issuer;
  if (result.issuer.find(':') != std::string::npos)
    return InvalidUri("the issuer contains ':'");
  result.account = std::move(account);
  return result;
}

TotpVerifier::TotpVerifier(std::vector<uint8_t> secret,
                           const TotpParams& params,
                           std::optional<uint64_t> last_accepted_step)
    : secret_(std::move(secret)), params_(params), last_accepted_step_(last_accepted_step) {}

Expected<TotpVerifier> TotpVerifier::Create(std::vector<uint8_t> secret,
                                            const TotpParams& params,
                                            std::optional<uint64_t> last_accepted_step) {
  if (secret.size() < kMinTotpSecretSize || secret.size() > kMaxTotpSecretSize) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return Error{ErrorCode::kInvalidArgument, "TOTP secret must have 128 to 1024 bits"};
  }
  if (Status valid = ValidateTotpParams(params); !valid.ok()) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return valid.error();
  }
  return TotpVerifier(std::move(secret), params, last_accepted_step);
}

TotpVerifier::TotpVerifier(TotpVerifier&& other) noexcept
    : secret_(std::move(other.secret_)),
      params_(other.params_),
      last_accepted_step_(other.last_accepted_step_) {
  other.secret_.clear();
}

TotpVerifier& TotpVerifier::operator=(TotpVerifier&& other) noexcept {
  if (this != &other) {
    Wipe();
    secret_ = std::move(other.secret_);
    other.secret_.clear();
    params_ = other.params_;
    last_accepted_step_ = other.last_accepted_step_;
  }
  return *this;
}

TotpVerifier::~TotpVerifier() {
  Wipe();
}

void TotpVerifier::Wipe() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
  secret_.clear();
}

Status TotpVerifier::Verify(std::string_view code, int64_t unix_time_s) {
  if (unix_time_s < 0)
    return Status(ErrorCode::kInvalidArgument, "TOTP time before 1970");
  std::string digits;
  for (char c : code) {
    if (c == ' ')
      continue;
    if (c < '0' || c > '9' || digits.size() > static_cast<size_t>(params_.digits)) {
      return Status(ErrorCode::kAuthInvalidInput,
                    "the code has " + std::to_string(params_.digits) + " digits");
    }
    digits.push_back(c);
  }
  if (digits.size() != static_cast<size_t>(params_.digits)) {
    return Status(ErrorCode::kAuthInvalidInput,
                  "the code has " + std::to_string(params_.digits) + " digits");
  }

  const auto current = static_cast<uint64_t>(unix_time_s / params_.period_s);
  std::optional<uint64_t> matched;
  // Every step of the window is computed and compared, matching or not.
  for (int delta = -kStepsBack; delta <= kStepsForward; ++delta) {
    if (delta < 0 && current < static_cast<uint64_t>(-delta))
      continue;
    const uint64_t step = current + static_cast<uint64_t>(static_cast<int64_t>(delta));
    auto expected = ComputeHotp(secret_, step, params_.digits, params_.algorithm);
    if (!expected.ok())
      return expected.status();
    const bool equal = CRYPTO_memcmp(expected->data(), digits.data(), digits.size()) == 0;
    OPENSSL_cleanse(expected->data(), expected->size());
    if (equal && (!matched || step > *matched))
      matched = step;
  }
  OPENSSL_cleanse(digits.data(), digits.size());
  if (!matched)
    return Status(ErrorCode::kAuthFailed, "wrong TOTP code");
  if (last_accepted_step_ && *matched <= *last_accepted_step_)
    return Status(ErrorCode::kAuthFailed, "TOTP code already used");
  last_accepted_step_ = *matched;
  return Status::Ok();
}

}  // namespace lifeline
