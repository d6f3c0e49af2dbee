#include "app/core/two_factor.h"

#include <openssl/crypto.h>

#include <sstream>

#include <toml++/toml.h>

#include "app/core/audit_log.h"  // ReadSmallFile, WriteFileAtomically.
#include "base/log.h"

namespace lifeline {
namespace {

constexpr size_t kMaxFileBytes = 4096;
constexpr char kIssuer[] = "Lifeline";

}  // namespace

// static
Expected<std::unique_ptr<TwoFactor>> TwoFactor::Load(const std::string& path,
                                                     const WallClock& clock) {
  std::unique_ptr<TwoFactor> two_factor(new TwoFactor(path, clock));
  auto text = policy_file::ReadSmallFile(path, kMaxFileBytes);
  if (!text.ok())
    return text.error();
  if (!text->has_value())
    return two_factor;  // Off.
  toml::table root;
  try {
    root = toml::parse(**text);
  } catch (const toml::parse_error& e) {
    return Error{ErrorCode::kSettingsInvalid, path + ": " + std::string(e.description())};
  }
  const auto secret = root["totp"]["secret"].value<std::string>();
  const auto step = root["totp"]["last_accepted_step"].value<int64_t>();
  if (!secret)
    return Error{ErrorCode::kSettingsInvalid, path + ": totp.secret is missing"};
  auto bytes = Base32Decode(*secret);
  if (!bytes.ok()) {
    return Error{ErrorCode::kSettingsInvalid, path + ": totp.secret: " + bytes.error().message};
  }
  std::optional<uint64_t> last_step;
  if (step && *step >= 0)
    last_step = static_cast<uint64_t>(*step);
  auto verifier = TotpVerifier::Create(std::move(bytes).value(), {}, last_step);
  if (!verifier.ok()) {
    return Error{ErrorCode::kSettingsInvalid, path + ": totp.secret: " + verifier.error().message};
  }
  two_factor->verifier_.emplace(std::move(verifier).value());
  two_factor->secret_base32_ = *secret;
  return two_factor;
}

bool TwoFactor::enabled() const {
  std::lock_guard lock(mutex_);
  return verifier_.has_value();
}

bool TwoFactor::Verify(const std::string& code) {
  std::lock_guard lock(mutex_);
  if (!verifier_)
    return false;
  const std::optional<uint64_t> before = verifier_->last_accepted_step();
  if (!verifier_->Verify(code, clock_.NowUnixMs() / 1000).ok())
    return false;
  // Persist the used step before saying yes; if that fails, say no (and undo).
  if (Status st = SaveLocked(); !st.ok()) {
    log::Error("2FA: cannot record the used code: {}", st.ToString());
    verifier_->set_last_accepted_step(before);
    return false;
  }
  return true;
}

Expected<TwoFactor::Enrollment> TwoFactor::StartEnrollment(const std::string& account) {
  auto secret = GenerateTotpSecret();
  if (!secret.ok())
    return secret.error();
  std::lock_guard lock(mutex_);
  OPENSSL_cleanse(pending_secret_.data(), pending_secret_.size());
  pending_secret_ = *secret;
  Enrollment enrollment;
  enrollment.secret_base32 = Base32Encode(pending_secret_);
  enrollment.uri = BuildOtpauthUri(kIssuer, account, pending_secret_);
  return enrollment;
}

Status TwoFactor::FinishEnrollment(const std::string& code) {
  std::lock_guard lock(mutex_);
  if (pending_secret_.empty()) {
    return Status(ErrorCode::kInvalidArgument, "no enrolment in progress");
  }
  auto verifier = TotpVerifier::Create(pending_secret_);
  if (!verifier.ok())
    return verifier.error();
  if (Status st = verifier->Verify(code, clock_.NowUnixMs() / 1000); !st.ok()) {
    return Status(ErrorCode::kAuthFailed,
                  "that code is not valid for the new secret (check the phone's clock)");
  }
  const std::string old_secret = secret_base32_;
  std::optional<TotpVerifier> old_verifier = std::move(verifier_);
  verifier_.emplace(std::move(verifier).value());
  secret_base32_ = Base32Encode(pending_secret_);
  if (Status st = SaveLocked(); !st.ok()) {
    verifier_ = std::move(old_verifier);
    secret_base32_ = old_secret;
    return st;
  }
  OPENSSL_cleanse(pending_secret_.data(), pending_secret_.size());
  pending_secret_.clear();
  return Status::Ok();
}

Status TwoFactor::Disable() {
  std::lock_guard lock(mutex_);
  verifier_.reset();
  OPENSSL_cleanse(secret_base32_.data(), secret_base32_.size());
  secret_base32_.clear();
  if (std::remove(path_.c_str()) != 0 && errno != ENOENT) {
    return Status(ErrorCode::kPolicyIo, "cannot remove " + path_);
  }
  return Status::Ok();
}

Status TwoFactor::SaveLocked() {
  toml::table totp{{"secret", secret_base32_}};
  if (verifier_ && verifier_->last_accepted_step()) {
    totp.insert("last_accepted_step", static_cast<int64_t>(*verifier_->last_accepted_step()));
  }
  toml::table root{{"totp", totp}};
  std::ostringstream out;
  out << "# Lifeline two-factor secret. Private: do not share or copy.\n" << root << "\n";
  return policy_file::WriteFileAtomically(path_, out.str());
}

}  // namespace lifeline
