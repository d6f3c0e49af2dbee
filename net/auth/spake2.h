// SPAKE2 (RFC 9382), suite SPAKE2-P256-SHA256-HKDF-HMAC, over OpenSSL 3.0; and the
// password scalar and AAD that bind it to Lifeline (shared/design/security.md §2.4).
//
// Roles: the viewer is A (blinds with M), the host is B (blinds with N). Never mix them.
//
//   viewer (A)                                      host (B)
//   a = Spake2::Create(kA, w, idA, idB, aad)        b = Spake2::Create(kB, w, idA, idB, aad)
//   send a->own_share()  ─────────────────────────► b->ProcessPeerShare(pA)
//   a->ProcessPeerShare(pB) ◄───────────────────── send b->own_share(), b->own_confirmation()
//   a->VerifyPeerConfirmation(cB)
//   send a->own_confirmation() ───────────────────► b->VerifyPeerConfirmation(cA)
//   a->shared_key()                                 b->shared_key()
//
// Nothing else may be processed before VerifyPeerConfirmation() succeeded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lifeline {

enum class Spake2Role {
  kA,  // The viewer: pA = x·P + w·M.
  kB,  // The host: pB = y·P + w·N.
};

inline constexpr size_t kSpake2ShareSize = 65;         // Uncompressed SEC1 point 04||X||Y.
inline constexpr size_t kSpake2ConfirmationSize = 32;  // HMAC-SHA256.
inline constexpr size_t kSpake2SharedKeySize = 16;     // Ke: half of SHA-256(TT).
inline constexpr size_t kSpake2ScalarSize = 32;        // Big-endian, < the P-256 group order.
inline constexpr size_t kSpake2MaxIdentitySize = 1024;
inline constexpr size_t kSpake2MaxAadSize = 1024;

// A password scalar w (or an ephemeral scalar), big-endian, reduced mod the group order.
using Spake2Scalar = std::array<uint8_t, kSpake2ScalarSize>;

// The production label of the password-scalar salt (§2.4.1).
inline constexpr std::string_view kSpake2PasswordLabel = "lifeline/spake2-w/v1";
// The label at the start of the AAD (§2.4 step 7).
inline constexpr std::string_view kSpake2AadLabel = "lifeline/spake2/v1";

// w for the one-time password typed for (or shown by) host `host_id` (§2.4.1):
//   salt = le64(|label|) || label || le64(|host_id|) || host_id
//   dk   = scrypt(P = password, S = salt, N = 2^15, r = 8, p = 1, dkLen = 40)
//   w    = int_be(dk) mod p, as 32 bytes big-endian
// with label = kSpake2PasswordLabel. `normalized_password` must already be normalised
// (NormalizeOneTimePassword). Slow on purpose (~0.1 s, 32 MiB of memory): call it off
// the network and UI threads. Thread-safe. Errors: kInvalidArgument (empty password),
// kInternal (OpenSSL failed, e.g. out of memory).
Expected<Spake2Scalar> DerivePasswordScalar(std::string_view normalized_password,
                                            std::string_view host_id);

// The same with another label: for the §2.4.1 example vector ("example-rsp/spake2-w/v1").
Expected<Spake2Scalar> DerivePasswordScalarWithLabel(std::string_view label,
                                                     std::string_view normalized_password,
                                                     std::string_view host_id);

// The AAD that binds the PAKE to one inner TLS session and one protocol version:
//   le64(|kSpake2AadLabel|) || kSpake2AadLabel || le64(|ekm|) || ekm || le64(4) || be32(version)
// where `tls_exporter` is the 32-byte TLS 1.3 exporter "EXPORTER-Channel-Binding".
std::vector<uint8_t> BuildSpake2Aad(std::span<const uint8_t> tls_exporter,
                                    uint32_t protocol_version);

// One run of the protocol for one side. Single use: after any error the instance stays
// failed and every later call fails. Not thread-safe: one owner thread.
// Secrets (w, the ephemeral scalar, K, TT, Ka, KcA, KcB) are wiped as soon as they are no
// longer needed, and the rest on destruction.
class Spake2 {
 public:
  // The values of RFC 9382 Appendix B, kept only by instances made by CreateForTesting().
  struct TestValues {
    std::vector<uint8_t> k;           // K, 65 bytes uncompressed.
    std::vector<uint8_t> transcript;  // TT.
    std::vector<uint8_t> hash_tt;     // SHA-256(TT) = Ke || Ka.
    std::vector<uint8_t> kc_a;        // 16 bytes.
    std::vector<uint8_t> kc_b;        // 16 bytes.
    std::vector<uint8_t> c_a;         // A's confirmation MAC.
    std::vector<uint8_t> c_b;         // B's confirmation MAC.
  };

  // Draws the ephemeral scalar from RAND_priv_bytes (uniform in [1, p-1]) and computes
  // the own share. `w` must be in [1, p-1] (DerivePasswordScalar's output; 0 only with
  // negligible probability). `identity_a` is "viewer:<device id>", `identity_b`
  // "host:<host id>"; `aad` is BuildSpake2Aad(). Errors: kInvalidArgument (w out of range,
  // identity or AAD longer than the limits above), kInternal (OpenSSL failure).
  static Expected<std::unique_ptr<Spake2>> Create(Spake2Role role,
                                                  std::span<const uint8_t, kSpake2ScalarSize> w,
                                                  std::string identity_a,
                                                  std::string identity_b,
                                                  std::vector<uint8_t> aad);

  // Tests and fuzzing only: a fixed ephemeral scalar (x for A, y for B; in [1, p-1]) so
  // RFC 9382 vectors reproduce; keeps TestValues. Never use it for a real session.
  static Expected<std::unique_ptr<Spake2>> CreateForTesting(
      Spake2Role role,
      std::span<const uint8_t, kSpake2ScalarSize> w,
      std::span<const uint8_t, kSpake2ScalarSize> own_scalar,
      std::string identity_a,
      std::string identity_b,
      std::vector<uint8_t> aad);

  ~Spake2();
  Spake2(const Spake2&) = delete;
  Spake2& operator=(const Spake2&) = delete;

  Spake2Role role() const { return role_; }

  // pA (role A) or pB (role B): 65 bytes, valid for the object's lifetime.
  const std::vector<uint8_t>& own_share() const { return own_share_; }

  // Takes the peer's share, computes K and the key schedule. Errors (the instance is then
  // failed):
  //   kMalformedMessage  not exactly 65 bytes, first byte not 0x04, not on P-256, or the
  //                      point at infinity;
  //   kAuthFailed        pPeer − w·(M or N) is the identity, so K would be the point at
  //                      infinity (a hostile share such as w·N sent to A, or w·M to B);
  //   kUnexpectedMessage called twice or after a failure (the state does not change);
  //   kInternal          OpenSSL failure.
  // Callers should count every error here as a failed authentication attempt.
  Status ProcessPeerShare(std::span<const uint8_t> peer_share);

  // cA (role A) or cB (role B), 32 bytes; empty before ProcessPeerShare() succeeded and
  // after any failure.
  std::span<const uint8_t> own_confirmation() const;

  // Checks the peer's confirmation MAC in constant time. Errors: kAuthFailed (wrong length
  // or wrong MAC: wrong password, different AAD or identities, e.g. a splicing relay; the
  // instance is then failed and the key wiped), kUnexpectedMessage (before
  // ProcessPeerShare(), twice, or after a failure).
  Status VerifyPeerConfirmation(std::span<const uint8_t> peer_confirmation);

  // Ke, 16 bytes; empty until VerifyPeerConfirmation() succeeded.
  std::span<const uint8_t> shared_key() const;

  // Non-null only for instances from CreateForTesting(), after ProcessPeerShare().
  const TestValues* test_values() const { return test_values_.get(); }

 private:
  enum class State { kAwaitingPeerShare, kAwaitingPeerConfirmation, kConfirmed, kFailed };

  Spake2(Spake2Role role, std::string identity_a, std::string identity_b, std::vector<uint8_t> aad);
  static Expected<std::unique_ptr<Spake2>> CreateWithScalar(
      Spake2Role role,
      std::span<const uint8_t, kSpake2ScalarSize> w,
      const uint8_t* fixed_scalar,  // kSpake2ScalarSize bytes, or null: random.
      std::string identity_a,
      std::string identity_b,
      std::vector<uint8_t> aad);
  Status Fail(Status status);
  void WipeSecrets();

  const Spake2Role role_;
  const std::string identity_a_;
  const std::string identity_b_;
  const std::vector<uint8_t> aad_;
  State state_ = State::kAwaitingPeerShare;
  Spake2Scalar w_{};           // Wiped after ProcessPeerShare().
  Spake2Scalar own_scalar_{};  // x or y; wiped after ProcessPeerShare().
  std::vector<uint8_t> own_share_;
  std::array<uint8_t, kSpake2SharedKeySize> shared_key_{};
  std::array<uint8_t, kSpake2ConfirmationSize> own_confirmation_{};
  std::array<uint8_t, kSpake2ConfirmationSize> expected_peer_confirmation_{};
  std::unique_ptr<TestValues> test_values_;
  bool keep_test_values_ = false;
};

}  // namespace lifeline
