// TOTP second factor: HOTP (RFC 4226), TOTP (RFC 6238), Base32 (RFC 4648) and otpauth://
// enrolment URIs (Google Authenticator "Key Uri Format"). security.md §3, req. 17 and 18.
//
// Defaults are what authenticator apps expect: HMAC-SHA-1, 6 digits, 30 s steps, T0 = 0.
// Free functions are thread-safe. TOTP secrets are secrets: never log them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lifeline {

enum class TotpAlgorithm { kSha1, kSha256, kSha512 };

struct TotpParams {
  TotpAlgorithm algorithm = TotpAlgorithm::kSha1;
  int digits = 6;     // 6 or 8.
  int period_s = 30;  // Step length X; kMinTotpPeriodSeconds..kMaxTotpPeriodSeconds.
};

inline constexpr size_t kTotpSecretSize = 20;     // 160 bits (RFC 4226 R6 recommends).
inline constexpr size_t kMinTotpSecretSize = 16;  // 128 bits (RFC 4226 R6 MUST).
inline constexpr size_t kMaxTotpSecretSize = 128;
inline constexpr int kMinTotpPeriodSeconds = 1;
inline constexpr int kMaxTotpPeriodSeconds = 3600;

// "SHA1", "SHA256", "SHA512".
std::string_view ToString(TotpAlgorithm algorithm);

// Error kInvalidArgument unless digits is 6 or 8 and the period is in range.
Status ValidateTotpParams(const TotpParams& params);

// RFC 4226: HMAC over the 8-byte big-endian counter, dynamic truncation, `digits`
// decimal digits with leading zeros. Any secret length is accepted (the RFC vectors use
// 20, 32 and 64 bytes). Errors: kInvalidArgument (digits not 6 or 8), kInternal (OpenSSL).
Expected<std::string> ComputeHotp(std::span<const uint8_t> secret,
                                  uint64_t counter,
                                  int digits = 6,
                                  TotpAlgorithm algorithm = TotpAlgorithm::kSha1);

// RFC 6238: HOTP with counter T = floor(unix_time_s / period_s). Errors: kInvalidArgument
// (bad params, negative time), kInternal.
Expected<std::string> ComputeTotp(std::span<const uint8_t> secret,
                                  int64_t unix_time_s,
                                  const TotpParams& params = {});

// RFC 4648 Base32, alphabet A-Z 2-7, upper case, no padding.
std::string Base32Encode(std::span<const uint8_t> data);

// Accepts lower case, ignores spaces and trailing '=' padding. Error kAuthInvalidInput for
// any other character, '=' before the end, an impossible length (1, 3 or 6 characters
// left over after the last full group of 8) or non-zero unused trailing bits (so every
// accepted text has exactly one canonical form, Base32Encode of the result).
Expected<std::vector<uint8_t>> Base32Decode(std::string_view text);

// kTotpSecretSize bytes from RAND_priv_bytes. Error kInternal if the RNG fails.
Expected<std::vector<uint8_t>> GenerateTotpSecret();

struct OtpauthUri {
  std::string issuer;           // May be empty; never contains ':'.
  std::string account;          // Non-empty; the host ID or a chosen host name.
  std::vector<uint8_t> secret;  // kMinTotpSecretSize..kMaxTotpSecretSize bytes.
  TotpParams params;
};

// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
// Label and issuer are percent-encoded (unreserved characters and '@' stay literal);
// without an issuer the label is the account alone and there is no issuer parameter.
// Preconditions (the caller's own values): `issuer` has no ':', `account` is non-empty.
std::string BuildOtpauthUri(std::string_view issuer,
                            std::string_view account,
                            std::span<const uint8_t> secret,
                            const TotpParams& params = {});

// Parses an otpauth URI robustly. Scheme and type are case-insensitive; the type must be
// "totp"; "secret" is required (Base32, kMinTotpSecretSize..kMaxTotpSecretSize bytes);
// "algorithm" (SHA1/SHA256/SHA512), "digits" (6/8) and "period" are optional with the
// defaults above; the "issuer" parameter must equal the label prefix when both are present;
// unknown parameters are ignored, repeated ones rejected; '+' in parameter values means a
// space; issuer and account must be valid UTF-8 without control characters. At most 4096
// characters. Error kAuthInvalidInput naming the first problem (never the secret).
Expected<OtpauthUri> ParseOtpauthUri(std::string_view uri);

// Verifies TOTP codes for one enrolled secret. Accepts the current step, one step back
// (network delay) and one step forward (clock skew); rejects everything else and every
// step at or before the last accepted one (RFC 6238 §5.2: a code is good once).
// The caller persists last_accepted_step() with the enrolment and restores it with
// set_last_accepted_step() (or the constructor), so a restart does not reopen a window.
// Not thread-safe: one owner. The secret is wiped on destruction.
class TotpVerifier {
 public:
  static constexpr int kStepsBack = 1;
  static constexpr int kStepsForward = 1;

  // Errors: kInvalidArgument (secret shorter than kMinTotpSecretSize or longer than
  // kMaxTotpSecretSize, bad params).
  static Expected<TotpVerifier> Create(std::vector<uint8_t> secret,
                                       const TotpParams& params = {},
                                       std::optional<uint64_t> last_accepted_step = {});
  TotpVerifier(TotpVerifier&& other) noexcept;
  TotpVerifier& operator=(TotpVerifier&& other) noexcept;
  TotpVerifier(const TotpVerifier&) = delete;
  TotpVerifier& operator=(const TotpVerifier&) = delete;
  ~TotpVerifier();

  // `code` is what the user typed (spaces allowed). Ok: accepted, and its step is now the
  // last accepted one. Errors: kAuthInvalidInput (not params.digits digits),
  // kAuthFailed (wrong code, outside the window, or already used; the message says which
  // for the local log; callers count it in the brute-force throttle),
  // kInvalidArgument (negative time), kInternal (OpenSSL).
  Status Verify(std::string_view code, int64_t unix_time_s);

  std::optional<uint64_t> last_accepted_step() const { return last_accepted_step_; }
  void set_last_accepted_step(std::optional<uint64_t> step) { last_accepted_step_ = step; }
  const TotpParams& params() const { return params_; }

 private:
  TotpVerifier(std::vector<uint8_t> secret,
               const TotpParams& params,
               std::optional<uint64_t> last_accepted_step);
  void Wipe();

  std::vector<uint8_t> secret_;
  TotpParams params_;
  std::optional<uint64_t> last_accepted_step_;
};

}  // namespace lifeline
