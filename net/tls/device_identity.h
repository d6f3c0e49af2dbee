// DeviceIdentity: this installation's long-term key pair (Ed25519) and the self-signed
// certificate that carries it in the inner TLS handshake (security.md §2.2, §2.6, §2.8).
//
// The certificate authenticates nothing by itself: there is no CA. Peers are authenticated
// by the PAKE bound to the TLS exporter; the key's fingerprint is what allow/block lists
// pin. So the certificate's subject, serial and dates carry no meaning.
//
// STORAGE (for now): two PEM files in a private folder, `device_key.pem` (mode 0600, the
// unencrypted PKCS#8 private key) and `device_cert.pem`. Requirement 14 of security.md
// asks for the OS keystore (libsecret, DPAPI, Keychain); that backend replaces the key
// file later, behind LoadOrCreate().
//
// Threading: a DeviceIdentity is immutable after creation; its const methods may be
// called from any thread at the same time (OpenSSL's EVP_PKEY and X509 are safe to share
// read-only, e.g. by several TLS connections).
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/openssl_handles.h"

namespace lifeline {

inline constexpr char kDeviceKeyFileName[] = "device_key.pem";
inline constexpr char kDeviceCertFileName[] = "device_cert.pem";

class DeviceIdentity {
 public:
  // Loads the identity stored in `dir`, or creates one when neither file exists.
  //   - `dir` (and missing parents) is created with mode 0700. An existing `dir` must be a
  //     folder owned by this user and not writable by group or others.
  //   - New files are written to a temporary name (O_CREAT|O_EXCL|O_NOFOLLOW), synced and
  //     renamed into place without replacing anything; a process that loses a creation race
  //     loads the winner's identity.
  //   - The key file must be a regular file (no symlink) owned by this user with no group
  //     or other permissions (like ssh); a missing certificate is recreated from the key
  //     (same fingerprint); a certificate without a key is an error.
  // Nothing is ever silently replaced. Errors name the file:
  //   kIdentityIo       a file or folder cannot be created, opened, read or written, or has
  //                     unsafe ownership or permissions;
  //   kIdentityInvalid  a file is not valid PEM of the expected kind (or is encrypted, or is
  //                     not Ed25519), or the certificate does not match the key;
  //   kInvalidArgument  `dir` is empty.
  static Expected<DeviceIdentity> LoadOrCreate(const std::string& dir);

  // A fresh identity held in memory only (tests, benchmarks, fuzzing). Error kInternal if
  // OpenSSL fails.
  static Expected<DeviceIdentity> CreateEphemeral();

  DeviceIdentity(DeviceIdentity&&) noexcept = default;
  DeviceIdentity& operator=(DeviceIdentity&&) noexcept = default;
  DeviceIdentity(const DeviceIdentity&) = delete;
  DeviceIdentity& operator=(const DeviceIdentity&) = delete;
  ~DeviceIdentity();

  // Not owned; valid while this object lives. Never null.
  EVP_PKEY* private_key() const { return key_.get(); }
  X509* certificate() const { return certificate_.get(); }

  // Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (64 characters).
  const std::string& fingerprint() const { return fingerprint_; }

  // Fingerprint of the public key in `certificate`; "" when it has none or is null.
  static std::string FingerprintOf(X509* certificate);
  // Fingerprint of a DER SubjectPublicKeyInfo (hashes the bytes as given).
  static std::string FingerprintOfSpki(std::span<const uint8_t> spki_der);

 private:
  DeviceIdentity(openssl::EvpPkeyPtr key, openssl::X509Ptr certificate);

  openssl::EvpPkeyPtr key_;
  openssl::X509Ptr certificate_;
  std::string fingerprint_;
};

// "ab12 cd34 ef56 7890": the first 16 hex digits of `fingerprint` in groups of 4, for
// showing to people (comparing the full fingerprint remains the real check). Shorter input
// gives what is there.
std::string ShortFingerprint(std::string_view fingerprint);

// PLACEHOLDER until the rendezvous server assigns IDs (security.md §2.8): a stable 9-digit
// decimal ID derived from a fingerprint: the first 8 bytes, big-endian, mod 900000000,
// plus 100000000. It is only a label: a 9-digit ID is ~30 bits and cheap to collide, so
// never match peers by it, always by fingerprint. "" if `fingerprint` does not start with
// 16 hex digits.
std::string DeviceIdFromFingerprint(std::string_view fingerprint);

// "123 456 789" for "123456789"; anything that is not 9 digits is returned unchanged.
std::string FormatDeviceId(std::string_view device_id);

}  // namespace lifeline
