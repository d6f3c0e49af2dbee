// RAII owners for OpenSSL handles and the error-queue helper shared by net/tls/*.cc.
//
// Every OpenSSL object we create is held by one of these unique_ptrs from the line that
// creates it; nothing is freed by hand.
//
// Threading: OpenSSL's error queue is per thread, so OpenSslErrorReason() describes the
// failures of the calling thread only.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace lifeline::tls_internal {

struct OpenSslDeleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(SSL_SESSION* p) const { SSL_SESSION_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }  // From i2d_*(&p).
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, OpenSslDeleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter>;
using OpenSslBytesPtr = std::unique_ptr<unsigned char, OpenSslDeleter>;

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

}  // namespace lifeline::tls_internal
