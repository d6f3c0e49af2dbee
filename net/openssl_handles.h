// RAII owners for every OpenSSL handle used in net/ (TLS, SPAKE2, TOTP), the secret
// wiper and the error-queue helper. Private to net/: not part of the module API.
//
// Every OpenSSL object is held by one of these unique_ptrs from the line that creates it.
// Handles that can hold secret material are freed with their clearing variant
// (BN_clear_free, EC_POINT_clear_free).
//
// Threading: OpenSSL's error queue is per thread, so OpenSslErrorReason() describes the
// failures of the calling thread only.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace lifeline::openssl {

struct Deleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(SSL_SESSION* p) const { SSL_SESSION_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
  void operator()(BN_CTX* p) const { BN_CTX_free(p); }
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }  // From i2d_*(&p).
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter>;
using SslPtr = std::unique_ptr<SSL, Deleter>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, Deleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using X509Ptr = std::unique_ptr<X509, Deleter>;
using BioPtr = std::unique_ptr<BIO, Deleter>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, Deleter>;
using EcPointPtr = std::unique_ptr<EC_POINT, Deleter>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, Deleter>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter>;
using EvpKdfPtr = std::unique_ptr<EVP_KDF, Deleter>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter>;
using OpenSslBytesPtr = std::unique_ptr<unsigned char, Deleter>;

// Wipes a buffer of secrets when it goes out of scope.
template <typename Container>
class ScopedCleanse {
 public:
  explicit ScopedCleanse(Container& container) : container_(container) {}
  ~ScopedCleanse() { OPENSSL_cleanse(container_.data(), container_.size()); }
  ScopedCleanse(const ScopedCleanse&) = delete;
  ScopedCleanse& operator=(const ScopedCleanse&) = delete;

 private:
  Container& container_;
};

// The reason of the oldest error in this thread's OpenSSL error queue ("unsupported
// protocol"), or `fallback` when the queue is empty. Empties the queue.
inline std::string OpenSslErrorReason(const char* fallback = "unknown OpenSSL error") {
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0)
    return fallback;
  const char* reason = ERR_reason_error_string(first);
  if (reason != nullptr)
    return reason;
  char buffer[256];
  ERR_error_string_n(first, buffer, sizeof(buffer));
  return buffer;
}

}  // namespace lifeline::openssl
