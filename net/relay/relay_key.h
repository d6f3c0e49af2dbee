// The relay's long-term key (Ed25519) and its self-signed TLS certificate. Clients pin
// SHA-256 of the public key (pin()); the same key signs ID bindings.
//
// Threading: immutable after creation; const methods from any thread.
#pragma once

#include <string>

#include "base/status.h"
#include "net/openssl_handles.h"
#include "net/relay/relay_protocol.h"

namespace lifeline {

class RelayKey {
 public:
  // Reads PEM files. With `create_if_missing`, when neither file exists a new key (file
  // mode 0600) and certificate are written first. Errors name the file: kFileIo,
  // kIdentityInvalid (not Ed25519, or the certificate does not match the key).
  static Expected<RelayKey> Load(const std::string& key_file,
                                 const std::string& cert_file,
                                 bool create_if_missing);
  // In memory only (tests, benchmarks).
  static Expected<RelayKey> Generate();

  EVP_PKEY* key() const { return key_.get(); }
  X509* certificate() const { return certificate_.get(); }
  // 64 lowercase hex digits: what clients pass as --relay-pin.
  const std::string& pin() const { return pin_; }
  // DER SubjectPublicKeyInfo.
  const std::string& spki() const { return spki_; }

  // Fills binding->relay_spki and binding->signature. Error kInternal.
  Status Sign(RelayBinding* binding) const;

 private:
  RelayKey(openssl::EvpPkeyPtr key, openssl::X509Ptr certificate);
  openssl::EvpPkeyPtr key_;
  openssl::X509Ptr certificate_;
  std::string pin_;
  std::string spki_;
};

}  // namespace lifeline
