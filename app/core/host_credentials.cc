#include "app/core/host_credentials.h"

#include <openssl/crypto.h>

#include "net/auth/one_time_password.h"
#include "net/auth/spake2.h"

namespace lifeline {

// static
Expected<std::unique_ptr<HostCredentials>> HostCredentials::Create(std::string host_id) {
  std::unique_ptr<HostCredentials> credentials(new HostCredentials(std::move(host_id)));
  if (Status st = credentials->Rotate(); !st.ok())
    return st.error();
  return credentials;
}

HostCredentials::~HostCredentials() {
  std::lock_guard lock(mutex_);
  OPENSSL_cleanse(password_.data(), password_.size());
  OPENSSL_cleanse(scalar_.data(), scalar_.size());
}

Status HostCredentials::Rotate() {
  auto password = GenerateOneTimePassword();
  if (!password.ok())
    return password.error();
  Status st = SetPassword(*password);
  OPENSSL_cleanse(password->data(), password->size());
  return st;
}

Status HostCredentials::SetPasswordForTesting(const std::string& password) {
  return SetPassword(password);
}

Status HostCredentials::SetPassword(const std::string& password) {
  auto scalar = DerivePasswordScalar(password, host_id_);
  if (!scalar.ok())
    return scalar.error();
  std::lock_guard lock(mutex_);
  OPENSSL_cleanse(password_.data(), password_.size());
  password_ = password;
  scalar_ = *scalar;
  ++generation_;
  return Status::Ok();
}

std::string HostCredentials::display_password() const {
  std::lock_guard lock(mutex_);
  return FormatForDisplay(password_);
}

std::array<uint8_t, 32> HostCredentials::password_scalar() const {
  std::lock_guard lock(mutex_);
  return scalar_;
}

uint64_t HostCredentials::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

}  // namespace lifeline
