// HostCredentials: the host's current one-time password and its SPAKE2 password scalar.
//
// The password is generated with RAND_priv_bytes (net/auth/one_time_password.h), lives
// only in memory, and is replaced at every host start, after every session, and after
// 10 consecutive failed attempts. The scalar w (scrypt, ~100 ms) is derived once per
// password, so an incoming attempt costs the host no password hashing.
//
// Threading: all methods are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"

namespace lifeline {

class HostCredentials {
 public:
  // Generates the first password for `host_id`. Error when key derivation fails.
  static Expected<std::unique_ptr<HostCredentials>> Create(std::string host_id);
  ~HostCredentials();

  // Replaces the password (and scalar) with a new one.
  Status Rotate();

  const std::string& host_id() const { return host_id_; }
  // For showing to the local user only (stdout, the main window); never logged.
  std::string display_password() const;
  std::array<uint8_t, 32> password_scalar() const;
  // Increases by one at every Rotate().
  uint64_t generation() const;

  // Tests: replaces the password with `password` (normalized form).
  Status SetPasswordForTesting(const std::string& password);

 private:
  explicit HostCredentials(std::string host_id) : host_id_(std::move(host_id)) {}
  Status SetPassword(const std::string& password);

  const std::string host_id_;
  mutable std::mutex mutex_;
  std::string password_;                 // Guarded by mutex_.
  std::array<uint8_t, 32> scalar_ = {};  // Guarded by mutex_.
  uint64_t generation_ = 0;              // Guarded by mutex_.
};

}  // namespace lifeline
