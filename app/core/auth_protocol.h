// The authentication phase of a session, as two message-driven state machines: one for
// the host, one for the viewer. Both run on the MessageChannel's network thread, take the
// peer's messages and say what to send and whether to close; neither owns a socket, so
// tests drive them directly.
//
//   viewer (SPAKE2 role A)                      host (SPAKE2 role B)
//   Hello{device_id} ------------------------>  access lists (TLS fingerprint), throttle
//   AuthShare{pA} --------------------------->  counts the attempt (persisted), then
//                 <---------------------------  AuthShareReply{pB, cB}
//   verifies cB; AuthConfirm{cA} ------------>  verifies cA
//                 <---------------------------  AuthTotpRequired (2FA on)
//   AuthTotp{code} -------------------------->  verifies (+-1 step, never twice)
//                 <---------------------------  AuthResult (after consent + indicator)
//
// The SPAKE2 transcript binds both IDs ("viewer:<id>", "host:<id>") and the TLS 1.3
// exporter of *this* connection (security.md 2.3): a relay that splices two TLS sessions
// sees two exporters, so confirmation fails on both sides even if it knows the password.
//
// Blocked, not-allowlisted and throttled viewers get exactly what a wrong password gets:
// the host answers with a decoy share from a random scalar, the viewer's check of cB
// fails, and the host's generic ErrorReport follows. No real password exchange happens
// for them, and the attempt is not counted.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/core/session_ui.h"
#include "base/status.h"
#include "net/proto/lifeline.pb.h"

namespace lifeline {

class AccessList;
class AuditLog;
enum class AuditEventType;
class AuthThrottle;
class HostCredentials;
class Spake2;
class TwoFactor;

// The same words for every refusal, so they reveal nothing.
inline constexpr char kGenericAuthFailure[] =
    "authentication failed or not allowed; check the ID and password, or try again later";

// What the TLS layer established for this connection.
struct SecureChannelInfo {
  std::array<uint8_t, 32> channel_binding = {};  // TLS 1.3 exporter.
  std::string peer_fingerprint;                  // SHA-256 of the peer's device key.
  std::string peer_address;
};

// What the state machines ask of their caller after each input.
struct AuthStep {
  std::vector<wire::Envelope> to_send;
  std::optional<Error> close;  // Send ErrorReport(close) and close the connection.
};

// Long-lived host objects shared by all sessions; owned by the host command.
struct HostSecurity {
  HostCredentials* credentials = nullptr;   // Required.
  AuthThrottle* throttle = nullptr;         // Required.
  const AccessList* access_list = nullptr;  // Optional: nobody is blocked.
  AuditLog* audit = nullptr;                // Optional in tests; always set by the CLI.
  TwoFactor* two_factor = nullptr;          // Optional: nullptr or disabled = no 2FA.
  HostSessionUi* ui = nullptr;              // Required.
  bool require_consent = false;
  int consent_timeout_ms = 30'000;
  int auth_timeout_ms = 60'000;
};

// Appends an audit event about `peer` to `security.audit` (if set); a failure to write is
// logged, never fatal to the session. Thread-safe.
void RecordAudit(const HostSecurity& security,
                 AuditEventType type,
                 const PeerInfo& peer,
                 const std::string& details);

// Threading: one thread (the channel's network thread). Not copyable.
class HostAuthenticator {
 public:
  enum class State { kAwaitHello, kAwaitShare, kAwaitConfirm, kAwaitTotp, kAuthenticated, kFailed };

  HostAuthenticator(HostSecurity* security, SecureChannelInfo channel);
  ~HostAuthenticator();

  AuthStep OnHello(const wire::Hello& hello);
  // Any message after Hello while not yet authenticated.
  AuthStep OnMessage(const wire::Envelope& message);

  State state() const { return state_; }
  const PeerInfo& peer() const { return peer_; }
  // True once an attempt was counted against the throttle (a real exchange started).
  bool attempt_counted() const { return attempt_counted_; }

 private:
  AuthStep Fail(std::string audit_details);
  AuthStep OnShare(const wire::AuthShare& share);
  AuthStep OnConfirm(const wire::AuthConfirm& confirm);
  AuthStep OnTotp(const wire::AuthTotp& totp);
  AuthStep Succeed();
  void Audit(AuditEventType event, const std::string& details);

  HostSecurity* const security_;
  const SecureChannelInfo channel_;
  State state_ = State::kAwaitHello;
  PeerInfo peer_;
  // The host's AuthShareReply never leaves sooner than this after the share arrived.
  static constexpr int64_t kMinShareReplyUs = 30'000;

  bool decoy_ = false;  // Refused at Hello: play along with a random scalar.
  AuditEventType decoy_event_{};
  std::string decoy_details_;
  bool attempt_counted_ = false;
  std::unique_ptr<Spake2> spake_;
};

// Asks the person at the viewer for the 2FA code; empty: none given (fails).
// Called on the network thread; may block (it is the viewer's only job then).
using TotpCodeProvider = std::function<std::string()>;

class ViewerAuthenticator {
 public:
  enum class State { kAwaitHello, kAwaitReply, kAwaitResult, kAuthenticated, kFailed };

  // `password` is as typed (normalized here).
  ViewerAuthenticator(std::string own_device_id,
                      std::string password,
                      std::array<uint8_t, 32> channel_binding,
                      TotpCodeProvider totp_code);
  ~ViewerAuthenticator();

  AuthStep OnHello(const wire::Hello& host_hello);
  AuthStep OnMessage(const wire::Envelope& message);

  State state() const { return state_; }
  const std::string& host_id() const { return host_id_; }

 private:
  AuthStep Fail(ErrorCode code, std::string message);

  const std::string own_device_id_;
  std::string password_;
  const std::array<uint8_t, 32> channel_binding_;
  TotpCodeProvider totp_code_;
  State state_ = State::kAwaitHello;
  std::string host_id_;
  bool totp_sent_ = false;
  std::unique_ptr<Spake2> spake_;
};

}  // namespace lifeline
