#include "net/relay/relay_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "net/tls/device_identity.h"

namespace lifeline {
namespace {

bool FileExists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

Status WritePem(const std::string& path, mode_t mode, bool key, EVP_PKEY* pkey, X509* cert) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return Error{ErrorCode::kFileIo, "cannot create " + path};
  FILE* file = fdopen(fd, "w");
  if (!file) {
    close(fd);
    return Error{ErrorCode::kFileIo, "cannot write " + path};
  }
  const int ok = key ? PEM_write_PrivateKey(file, pkey, nullptr, nullptr, 0, nullptr, nullptr)
                     : PEM_write_X509(file, cert);
  const bool closed = std::fclose(file) == 0;
  if (ok != 1 || !closed)
    return Error{ErrorCode::kFileIo, "cannot write " + path};
  return {};
}

}  // namespace

RelayKey::RelayKey(openssl::EvpPkeyPtr key, openssl::X509Ptr certificate)
    : key_(std::move(key)), certificate_(std::move(certificate)) {
  pin_ = DeviceIdentity::FingerprintOf(certificate_.get());
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key_.get(), &der);
  if (length > 0)
    spki_.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
}

Expected<RelayKey> RelayKey::Generate() {
  auto identity = DeviceIdentity::CreateEphemeral();
  if (!identity.ok())
    return identity.error();
  EVP_PKEY_up_ref(identity->private_key());
  X509_up_ref(identity->certificate());
  return RelayKey(openssl::EvpPkeyPtr(identity->private_key()),
                  openssl::X509Ptr(identity->certificate()));
}

Expected<RelayKey> RelayKey::Load(const std::string& key_file,
                                  const std::string& cert_file,
                                  bool create_if_missing) {
  if (create_if_missing && !FileExists(key_file) && !FileExists(cert_file)) {
    auto fresh = Generate();
    if (!fresh.ok())
      return fresh.error();
    if (Status st = WritePem(key_file, 0600, true, fresh->key(), nullptr); !st.ok())
      return st.error();
    if (Status st = WritePem(cert_file, 0644, false, nullptr, fresh->certificate()); !st.ok())
      return st.error();
  }
  FILE* kf = std::fopen(key_file.c_str(), "r");
  if (!kf)
    return Error{ErrorCode::kFileIo, "cannot read the relay key " + key_file};
  openssl::EvpPkeyPtr key(PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr));
  std::fclose(kf);
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_ED25519)
    return Error{ErrorCode::kIdentityInvalid, key_file + " is not an Ed25519 private key in PEM"};
  FILE* cf = std::fopen(cert_file.c_str(), "r");
  if (!cf)
    return Error{ErrorCode::kFileIo, "cannot read the relay certificate " + cert_file};
  openssl::X509Ptr cert(PEM_read_X509(cf, nullptr, nullptr, nullptr));
  std::fclose(cf);
  if (!cert)
    return Error{ErrorCode::kIdentityInvalid, cert_file + " is not a PEM certificate"};
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return Error{ErrorCode::kIdentityInvalid, cert_file + " does not match " + key_file};
  return RelayKey(std::move(key), std::move(cert));
}

Status RelayKey::Sign(RelayBinding* binding) const {
  binding->relay_spki = spki_;
  const std::vector<uint8_t> bytes = BindingSignedBytes(*binding);
  openssl::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char signature[64];
  size_t length = sizeof(signature);
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &length, bytes.data(), bytes.size()) != 1)
    return Error{ErrorCode::kInternal, "cannot sign the ID binding"};
  binding->signature.assign(reinterpret_cast<const char*>(signature), length);
  return {};
}

}  // namespace lifeline
