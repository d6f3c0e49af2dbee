#include "app/core/auth_protocol.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <chrono>
#include <thread>

#include "app/core/access_list.h"
#include "app/core/audit_log.h"
#include "app/core/host_credentials.h"
#include "app/core/throttle.h"
#include "app/core/two_factor.h"
#include "base/log.h"
#include "base/time.h"
#include "net/auth/one_time_password.h"
#include "net/auth/spake2.h"
#include "net/message_channel.h"

namespace lifeline {
namespace {

std::string HostIdentity(const std::string& host_id) {
  return "host:" + host_id;
}
std::string ViewerIdentity(const std::string& viewer_id) {
  return "viewer:" + viewer_id;
}

AuthStep CloseWith(ErrorCode code, std::string message) {
  AuthStep step;
  step.close = Error{code, std::move(message)};
  return step;
}

// A device ID as announced in Hello: 1..32 characters, digits only. Anything else is
// malformed input (the ID ends up in logs and the audit trail).
bool IsPlausibleDeviceId(const std::string& id) {
  if (id.empty() || id.size() > 32)
    return false;
  for (char c : id) {
    if (c < '0' || c > '9')
      return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Host

HostAuthenticator::HostAuthenticator(HostSecurity* security, SecureChannelInfo channel)
    : security_(security), channel_(std::move(channel)) {
  peer_.fingerprint = channel_.peer_fingerprint;
  peer_.address = channel_.peer_address;
}

HostAuthenticator::~HostAuthenticator() = default;

void RecordAudit(const HostSecurity& security,
                 AuditEventType type,
                 const PeerInfo& peer,
                 const std::string& details) {
  if (!security.audit)
    return;
  AuditEvent record;
  record.type = type;
  record.peer_id = peer.device_id;
  record.fingerprint = peer.fingerprint;
  record.details = details;
  if (Status st = security.audit->Append(record); !st.ok()) {
    log::Error("audit log: {}", st.ToString());
  }
}

void HostAuthenticator::Audit(AuditEventType event, const std::string& details) {
  RecordAudit(*security_, event, peer_, details);
}

AuthStep HostAuthenticator::Fail(std::string audit_details) {
  state_ = State::kFailed;
  if (attempt_counted_) {
    // The wait runs from the end of the failed attempt, not from its start.
    if (Status st = security_->throttle->RecordFailure(); !st.ok()) {
      log::Error("host: {}", st.ToString());
    }
  }
  Audit(AuditEventType::kAuthFailed, audit_details);
  log::Info("host: authentication of {} failed: {}", peer_.address, audit_details);
  return CloseWith(ErrorCode::kAuthFailed, kGenericAuthFailure);
}

AuthStep HostAuthenticator::OnHello(const wire::Hello& hello) {
  if (state_ != State::kAwaitHello) {
    state_ = State::kFailed;
    return CloseWith(ErrorCode::kUnexpectedMessage, "a second Hello");
  }
  if (hello.role() != wire::ROLE_VIEWER) {
    state_ = State::kFailed;
    return CloseWith(ErrorCode::kUnexpectedMessage, "the peer is not a viewer");
  }
  if (!IsPlausibleDeviceId(hello.device_id())) {
    state_ = State::kFailed;
    return CloseWith(ErrorCode::kMalformedMessage, "the viewer's device ID is malformed");
  }
  peer_.device_id = hello.device_id();
  state_ = State::kAwaitShare;

  // Lists first: a blocked peer never reaches the password exchange.
  if (security_->access_list) {
    const AccessDecision decision =
        security_->access_list->Check(peer_.device_id, peer_.fingerprint);
    if (decision != AccessDecision::kAllowed) {
      decoy_ = true;
      decoy_event_ = AuditEventType::kBlocked;
      decoy_details_ =
          decision == AccessDecision::kBlocked ? "blocklisted" : "not on the allowlist";
      return {};
    }
  }
  const AuthThrottle::Decision throttle = security_->throttle->Check();
  if (!throttle.allowed()) {
    decoy_ = true;
    decoy_event_ = AuditEventType::kThrottled;
    decoy_details_ = "retry allowed in " + std::to_string(throttle.retry_after_ms / 1000) + " s";
    return {};
  }
  return {};
}

AuthStep HostAuthenticator::OnMessage(const wire::Envelope& message) {
  switch (state_) {
    case State::kAwaitShare:
      if (message.payload_case() == wire::Envelope::kAuthShare)
        return OnShare(message.auth_share());
      break;
    case State::kAwaitConfirm:
      if (message.payload_case() == wire::Envelope::kAuthConfirm) {
        return OnConfirm(message.auth_confirm());
      }
      break;
    case State::kAwaitTotp:
      if (message.payload_case() == wire::Envelope::kAuthTotp)
        return OnTotp(message.auth_totp());
      break;
    default:
      break;
  }
  // Anything else before authentication completes ends the connection; an attempt
  // already counted stays counted.
  const bool counted = attempt_counted_;
  state_ = State::kFailed;
  if (counted)
    Audit(AuditEventType::kAuthFailed, "protocol violation");
  return CloseWith(ErrorCode::kUnexpectedMessage, "message type " +
                                                      std::to_string(message.payload_case()) +
                                                      " is not allowed before authentication");
}

AuthStep HostAuthenticator::OnShare(const wire::AuthShare& share) {
  // Timing: a refused viewer must not learn that it was refused from how fast the reply
  // comes. Both paths write to disk at this point (the counted attempt, or the audit line
  // of the refusal), and every reply leaves no earlier than kMinShareReplyUs after the
  // share arrived, which covers the fsyncs of the real path on a normal disk.
  const int64_t received_us = MonotonicNowUs();
  Spake2Scalar w{};
  if (decoy_)
    Audit(decoy_event_, decoy_details_);
  if (!decoy_) {
    // Count the attempt before answering, and persist it, so that a viewer that hangs up
    // after seeing our share has still used an attempt.
    auto decision = security_->throttle->RecordAttemptStarted();
    if (!decision.ok()) {
      // The count could not be saved: refuse rather than allow uncounted attempts.
      log::Error("host: {}", decision.error().ToString());
      decoy_ = true;
    } else if (!decision->allowed()) {
      decoy_ = true;  // Another connection used the last free attempt meanwhile.
    } else {
      attempt_counted_ = true;
      Audit(AuditEventType::kAttempt, "password exchange started");
      w = security_->credentials->password_scalar();
    }
  }
  if (decoy_) {
    // A random scalar: the reply looks like any other, and can never confirm.
    RAND_priv_bytes(w.data(), static_cast<int>(w.size()));
    w[0] &= 0x7f;  // Below the group order.
    w[31] |= 1;    // Not zero.
  }
  auto spake = Spake2::Create(Spake2Role::kB, w, ViewerIdentity(peer_.device_id),
                              HostIdentity(security_->credentials->host_id()),
                              BuildSpake2Aad(channel_.channel_binding, kProtocolVersion));
  OPENSSL_cleanse(w.data(), w.size());
  if (!spake.ok())
    return Fail("SPAKE2 setup failed: " + spake.error().message);
  spake_ = std::move(spake).value();
  if (Status st = spake_->ProcessPeerShare(
          std::span(reinterpret_cast<const uint8_t*>(share.share().data()), share.share().size()));
      !st.ok()) {
    return Fail("invalid SPAKE2 share: " + st.error().message);
  }
  AuthStep step;
  wire::Envelope reply;
  const auto& own_share = spake_->own_share();
  const auto confirmation = spake_->own_confirmation();
  reply.mutable_auth_share_reply()->set_share(own_share.data(), own_share.size());
  reply.mutable_auth_share_reply()->set_confirmation(confirmation.data(), confirmation.size());
  step.to_send.push_back(std::move(reply));
  state_ = State::kAwaitConfirm;
  const int64_t elapsed_us = MonotonicNowUs() - received_us;
  if (elapsed_us < kMinShareReplyUs) {
    std::this_thread::sleep_for(std::chrono::microseconds(kMinShareReplyUs - elapsed_us));
  }
  return step;
}

AuthStep HostAuthenticator::OnConfirm(const wire::AuthConfirm& confirm) {
  if (decoy_)
    return Fail("refused before the password exchange");
  if (Status st = spake_->VerifyPeerConfirmation(
          std::span(reinterpret_cast<const uint8_t*>(confirm.confirmation().data()),
                    confirm.confirmation().size()));
      !st.ok()) {
    return Fail("wrong password or tampered connection");
  }
  if (security_->two_factor && security_->two_factor->enabled()) {
    state_ = State::kAwaitTotp;
    AuthStep step;
    wire::Envelope request;
    request.mutable_auth_totp_required();
    step.to_send.push_back(std::move(request));
    return step;
  }
  return Succeed();
}

AuthStep HostAuthenticator::OnTotp(const wire::AuthTotp& totp) {
  if (!security_->two_factor->Verify(totp.code()))
    return Fail("wrong or reused 2FA code");
  return Succeed();
}

AuthStep HostAuthenticator::Succeed() {
  state_ = State::kAuthenticated;
  if (Status st = security_->throttle->RecordSuccess(); !st.ok()) {
    log::Error("host: {}", st.ToString());
  }
  Audit(AuditEventType::kAuthSucceeded, "");
  log::Info("host: viewer {} ({}) authenticated", peer_.device_id, peer_.address);
  return {};
}

// ---------------------------------------------------------------------------------------
// Viewer

ViewerAuthenticator::ViewerAuthenticator(std::string own_device_id,
                                         std::string password,
                                         std::array<uint8_t, 32> channel_binding,
                                         TotpCodeProvider totp_code)
    : own_device_id_(std::move(own_device_id)),
      password_(std::move(password)),
      channel_binding_(channel_binding),
      totp_code_(std::move(totp_code)) {}

ViewerAuthenticator::~ViewerAuthenticator() {
  OPENSSL_cleanse(password_.data(), password_.size());
}

AuthStep ViewerAuthenticator::Fail(ErrorCode code, std::string message) {
  state_ = State::kFailed;
  OPENSSL_cleanse(password_.data(), password_.size());
  return CloseWith(code, std::move(message));
}

AuthStep ViewerAuthenticator::OnHello(const wire::Hello& host_hello) {
  if (state_ != State::kAwaitHello)
    return Fail(ErrorCode::kUnexpectedMessage, "a second Hello");
  if (host_hello.role() != wire::ROLE_HOST) {
    return Fail(ErrorCode::kUnexpectedMessage, "the peer is not a host");
  }
  if (!IsPlausibleDeviceId(host_hello.device_id())) {
    return Fail(ErrorCode::kMalformedMessage, "the host's ID is malformed");
  }
  host_id_ = host_hello.device_id();
  auto normalized = NormalizeOneTimePassword(password_);
  if (!normalized.ok())
    return Fail(ErrorCode::kAuthFailed, normalized.error().message);
  auto w = DerivePasswordScalar(*normalized, host_id_);
  OPENSSL_cleanse(normalized->data(), normalized->size());
  OPENSSL_cleanse(password_.data(), password_.size());
  if (!w.ok())
    return Fail(ErrorCode::kInternal, w.error().message);
  auto spake =
      Spake2::Create(Spake2Role::kA, *w, ViewerIdentity(own_device_id_), HostIdentity(host_id_),
                     BuildSpake2Aad(channel_binding_, kProtocolVersion));
  OPENSSL_cleanse(w->data(), w->size());
  if (!spake.ok())
    return Fail(ErrorCode::kInternal, spake.error().message);
  spake_ = std::move(spake).value();
  AuthStep step;
  wire::Envelope share;
  share.mutable_auth_share()->set_share(spake_->own_share().data(), spake_->own_share().size());
  step.to_send.push_back(std::move(share));
  state_ = State::kAwaitReply;
  return step;
}

AuthStep ViewerAuthenticator::OnMessage(const wire::Envelope& message) {
  if (state_ == State::kAwaitReply && message.payload_case() == wire::Envelope::kAuthShareReply) {
    const auto& reply = message.auth_share_reply();
    if (Status st = spake_->ProcessPeerShare(std::span(
            reinterpret_cast<const uint8_t*>(reply.share().data()), reply.share().size()));
        !st.ok()) {
      return Fail(ErrorCode::kAuthFailed, "the host's answer is invalid: " + st.error().message);
    }
    if (Status st = spake_->VerifyPeerConfirmation(
            std::span(reinterpret_cast<const uint8_t*>(reply.confirmation().data()),
                      reply.confirmation().size()));
        !st.ok()) {
      return Fail(ErrorCode::kAuthFailed,
                  "wrong password, or the host is not accepting connections from you now "
                  "(too many attempts or blocked), or the connection was tampered with");
    }
    AuthStep step;
    wire::Envelope confirm;
    const auto confirmation = spake_->own_confirmation();
    confirm.mutable_auth_confirm()->set_confirmation(confirmation.data(), confirmation.size());
    step.to_send.push_back(std::move(confirm));
    state_ = State::kAwaitResult;
    return step;
  }
  if (state_ == State::kAwaitResult &&
      message.payload_case() == wire::Envelope::kAuthTotpRequired && !totp_sent_) {
    totp_sent_ = true;
    std::string code = totp_code_ ? totp_code_() : std::string();
    if (code.empty()) {
      return Fail(ErrorCode::kAuthFailed, "the host requires a 2FA code and none was given");
    }
    AuthStep step;
    wire::Envelope totp;
    totp.mutable_auth_totp()->set_code(code);
    OPENSSL_cleanse(code.data(), code.size());
    step.to_send.push_back(std::move(totp));
    return step;
  }
  if (state_ == State::kAwaitResult && message.payload_case() == wire::Envelope::kAuthResult &&
      message.auth_result().accepted()) {
    state_ = State::kAuthenticated;
    return {};
  }
  return Fail(ErrorCode::kUnexpectedMessage, "message type " +
                                                 std::to_string(message.payload_case()) +
                                                 " is not allowed before authentication");
}

}  // namespace lifeline
