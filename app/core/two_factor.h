// TwoFactor: the host's optional TOTP second factor (RFC 6238), persisted in
// `<config>/two_factor.toml` (mode 0600): the Base32 secret and the last accepted time
// step, so a code is never accepted twice, even across a restart.
//
// Enrolment is two steps: StartEnrollment() makes a secret and its otpauth:// URI;
// FinishEnrollment(code) switches 2FA on only when `code` is valid for that secret.
//
// Storage note: the secret sits in a private file, not yet in the desktop keyring
// (libsecret arrives with the settings dialog).
//
// Threading: all methods are thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/wall_clock.h"
#include "net/auth/totp.h"

namespace lifeline {

class TwoFactor {
 public:
  // A missing file means 2FA is off. Errors: kPolicyIo / kSettingsInvalid naming the
  // file (a damaged file is never treated as "off").
  static Expected<std::unique_ptr<TwoFactor>> Load(const std::string& path, const WallClock& clock);

  bool enabled() const;

  // True when `code` is valid now (one step of drift each way) and its step was not used
  // before; the step is persisted before returning true.
  bool Verify(const std::string& code);

  struct Enrollment {
    std::string secret_base32;
    std::string uri;  // otpauth://totp/Lifeline:<account>?secret=...
  };
  // `account`: the host ID. Does not change what is stored until FinishEnrollment.
  Expected<Enrollment> StartEnrollment(const std::string& account);
  // Checks `code` against the pending secret; on success stores it and turns 2FA on.
  // Error kAuthFailed for a wrong code (nothing changes).
  Status FinishEnrollment(const std::string& code);
  Status Disable();

 private:
  TwoFactor(std::string path, const WallClock& clock) : path_(std::move(path)), clock_(clock) {}
  Status SaveLocked();

  const std::string path_;
  const WallClock& clock_;
  mutable std::mutex mutex_;
  std::optional<TotpVerifier> verifier_;  // Guarded by mutex_. Set when enabled.
  std::string secret_base32_;             // Guarded by mutex_.
  std::vector<uint8_t> pending_secret_;   // Guarded by mutex_.
};

}  // namespace lifeline
