#include "net/tls/tls_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "base/log.h"
#include "base/time.h"
#include "net/posix_util.h"

namespace lifeline {
namespace {

using openssl::BioPtr;
using openssl::OpenSslErrorReason;
using openssl::SslCtxPtr;
using openssl::SslPtr;

// Each direction of the BIO pair: ciphertext waiting for the inner transport (out) or
// for OpenSSL (in). Bounds what Write() buffers beyond the inner transport.
constexpr size_t kBioBufferBytes = 64 * 1024;
// The largest plaintext of one TLS record.
constexpr size_t kMaxRecordPlaintextBytes = SSL3_RT_MAX_PLAIN_LENGTH;
// Room needed in the outgoing buffer before one SSL_write of a full record: the record
// with its worst-case expansion, plus slack for a KeyUpdate or an alert queued with it.
// Writing only when a whole record fits means SSL_write never stops halfway, so OpenSSL
// never holds a half-written record that only a retry with the same buffer may finish.
constexpr size_t kWriteReserveBytes =
    SSL3_RT_HEADER_LENGTH + kMaxRecordPlaintextBytes + SSL3_RT_MAX_ENCRYPTED_OVERHEAD + 1024;
// How often TlsHandshake() checks its cancel flag.
constexpr int kCancelCheckSliceMs = 50;
// How long Shutdown() waits for ciphertext (and close_notify) to leave.
constexpr int kShutdownFlushTimeoutMs = 1000;

int RemainingMs(int64_t deadline_us) {
  const int64_t remaining_us = deadline_us - MonotonicNowUs();
  if (remaining_us <= 0)
    return 0;
  return static_cast<int>(std::min<int64_t>((remaining_us + 999) / 1000, 1 << 30));
}

Error Internal(std::string_view what) {
  return Error{ErrorCode::kInternal, fmt::format("{}: {}", what, OpenSslErrorReason())};
}

// Server side: accepts the client's certificate when the only objections are that it is
// self-signed (it always is: there is no CA) or outside its validity dates (peers' clocks
// may be wrong, and validity carries no meaning here). Anything else, including any
// problem with a longer chain, fails the handshake. This authenticates nothing: the PAKE
// does, bound to the exporter; the certificate only carries the key that lists pin.
int AcceptSelfSignedCertificate(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok == 1)
    return 1;
  if (X509_STORE_CTX_get_error_depth(store) != 0)
    return 0;
  switch (X509_STORE_CTX_get_error(store)) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return 1;
    default:
      return 0;
  }
}

// The settings of security.md §2.6. One context per connection: it costs ~0.1 ms, and
// nothing (no session cache) is shared between connections.
Expected<SslCtxPtr> MakeContext(TlsRole role, const DeviceIdentity& identity) {
  SslCtxPtr context(
      SSL_CTX_new(role == TlsRole::kServer ? TLS_server_method() : TLS_client_method()));
  if (!context)
    return Internal("cannot create a TLS context");
  SSL_CTX* ctx = context.get();
  // TLS 1.3 only, both ways: the channel binding needs the 1.3 exporter, and there is no
  // fallback of any kind (requirements 2 and 9).
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return Internal("cannot restrict TLS to version 1.3");
  }
  // No resumption, so every connection runs a fresh PAKE (requirement 3).
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // An end of stream without close_notify must stay an error (requirement 23): this
  // option is never set (it is off by default; cleared here to say so).
  SSL_CTX_clear_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
  // Both sides present their device certificate.
  if (SSL_CTX_use_certificate(ctx, identity.certificate()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, identity.private_key()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return Internal("cannot use the device identity for TLS");
  }
  if (role == TlsRole::kServer) {
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_max_early_data(ctx, 0);  // Never 0-RTT.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       AcceptSelfSignedCertificate);
  } else {
    // THE documented exception of requirement 9: the client does not verify the host's
    // self-signed certificate, because nothing could verify it (no CA) and nothing relies
    // on it: the host is authenticated by the PAKE, whose confirmation MACs include the
    // channel binding of this very TLS session, and no application data is accepted
    // before both confirmations verified (requirement 8). The host's key is still read
    // (peer_fingerprint()) for pinning.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return context;
}

IoResult ErrorResult(Error error) {
  return IoResult{IoStatus::kError, 0, std::move(error)};
}

}  // namespace

// static
Expected<std::unique_ptr<TlsTransport>> TlsTransport::Create(std::unique_ptr<Transport> inner,
                                                             TlsRole role,
                                                             const DeviceIdentity& identity) {
  if (!inner)
    return Error{ErrorCode::kInvalidArgument, "TLS needs a transport to run over"};
  ERR_clear_error();
  auto context = MakeContext(role, identity);
  if (!context.ok())
    return context.error();
  // The SSL keeps its own reference to the context.
  SslPtr ssl(SSL_new(context->get()));
  if (!ssl)
    return Internal("cannot create a TLS connection");
  BIO* ssl_bio = nullptr;
  BIO* network_bio = nullptr;
  if (BIO_new_bio_pair(&ssl_bio, kBioBufferBytes, &network_bio, kBioBufferBytes) != 1)
    return Internal("cannot create the TLS buffers");
  BioPtr owned_network_bio(network_bio);
  // One reference, used for both directions, passes to `ssl`.
  SSL_set_bio(ssl.get(), ssl_bio, ssl_bio);
  if (role == TlsRole::kServer) {
    SSL_set_accept_state(ssl.get());
  } else {
    SSL_set_connect_state(ssl.get());
  }
  return std::unique_ptr<TlsTransport>(
      new TlsTransport(std::move(inner), std::move(ssl), ssl_bio, std::move(owned_network_bio)));
}

TlsTransport::TlsTransport(std::unique_ptr<Transport> inner,
                           SslPtr ssl,
                           BIO* ssl_bio,
                           BioPtr network_bio)
    : inner_(std::move(inner)),
      peer_description_(inner_->PeerDescription()),
      ssl_(std::move(ssl)),
      ssl_bio_(ssl_bio),
      network_bio_(std::move(network_bio)) {}

TlsTransport::~TlsTransport() {
  Shutdown();
}

IoResult TlsTransport::ContinueHandshake() {
  if (broken_)
    return Broken();
  if (handshake_done_)
    return IoResult{IoStatus::kOk, 0, {}};
  if (shut_down_) {
    return ErrorResult(
        Error{ErrorCode::kConnectionClosed,
              fmt::format("connection to {} was shut down locally", peer_description_)});
  }
  while (!ssl_handshake_finished_) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl_.get());
    if (rc == 1) {
      ssl_handshake_finished_ = true;
      if (!FinishHandshake())
        return Broken();
      break;
    }
    const int ssl_error = SSL_get_error(ssl_.get(), rc);
    if (ssl_error != SSL_ERROR_WANT_READ && ssl_error != SSL_ERROR_WANT_WRITE)
      return FailFromSsl(ssl_error, /*in_handshake=*/true);
    const PumpResult flushed = FlushOutput();
    if (flushed == PumpResult::kFailed)
      return Broken();
    if (ssl_error == SSL_ERROR_WANT_WRITE) {
      if (flushed == PumpResult::kProgress)
        continue;
      return IoResult{IoStatus::kWouldBlock, 0, {}};
    }
    if (input_ended_) {  // OpenSSL should have failed on the end of input; never spin.
      broken_ = Error{ErrorCode::kTlsHandshakeFailed,
                      fmt::format("TLS handshake with {} failed: the peer closed the connection",
                                  peer_description_)};
      return Broken();
    }
    switch (FillInput()) {
      case PumpResult::kProgress:
      case PumpResult::kEndOfStream:  // OpenSSL reports it on the next call.
        continue;
      case PumpResult::kBlocked:
        return IoResult{IoStatus::kWouldBlock, 0, {}};
      case PumpResult::kFailed:
        return Broken();
    }
  }
  // Our last flight (the client's Finished) must have left before the handshake counts
  // as done: the caller may next wait for the peer, which waits for it.
  if (FlushOutput() == PumpResult::kFailed)
    return Broken();
  if (HasPendingOutput())
    return IoResult{IoStatus::kWouldBlock, 0, {}};
  handshake_done_ = true;
  return IoResult{IoStatus::kOk, 0, {}};
}

bool TlsTransport::FinishHandshake() {
  // Defence in depth: the context allows nothing else.
  if (SSL_version(ssl_.get()) != TLS1_3_VERSION) {
    broken_ = Error{ErrorCode::kTlsProtocolTooOld,
                    fmt::format("TLS handshake with {} failed: negotiated {} instead of TLSv1.3",
                                peer_description_, SSL_get_version(ssl_.get()))};
    return false;
  }
  peer_fingerprint_ = DeviceIdentity::FingerprintOf(SSL_get0_peer_certificate(ssl_.get()));
  if (peer_fingerprint_.empty()) {
    broken_ = Error{ErrorCode::kTlsHandshakeFailed,
                    fmt::format("TLS handshake with {} failed: the peer presented no certificate",
                                peer_description_)};
    return false;
  }
  if (SSL_export_keying_material(ssl_.get(), channel_binding_.data(), channel_binding_.size(),
                                 kChannelBindingLabel, std::strlen(kChannelBindingLabel), nullptr,
                                 0, /*use_context=*/0) != 1) {
    broken_ =
        Internal(fmt::format("cannot compute the TLS channel binding with {}", peer_description_));
    return false;
  }
  const char* cipher = SSL_get_cipher_name(ssl_.get());
  cipher_ = cipher != nullptr ? cipher : "";
  protocol_version_ = SSL_get_version(ssl_.get());
  return true;
}

std::optional<IoResult> TlsTransport::CheckUsable(const char* operation) const {
  if (broken_)
    return Broken();
  if (shut_down_) {
    return ErrorResult(
        Error{ErrorCode::kConnectionClosed,
              fmt::format("connection to {} was shut down locally", peer_description_)});
  }
  if (!handshake_done_) {
    return ErrorResult(Error{
        ErrorCode::kInternal,
        fmt::format("{} {} before the TLS handshake completed", operation, peer_description_)});
  }
  return std::nullopt;
}

IoResult TlsTransport::Read(std::span<uint8_t> buffer) {
  if (std::optional<IoResult> unusable = CheckUsable("read from"))
    return *unusable;
  if (peer_closed_)
    return IoResult{IoStatus::kClosed, 0, {}};
  if (buffer.empty())
    return IoResult{IoStatus::kOk, 0, {}};
  if (FlushOutput() == PumpResult::kFailed)
    return Broken();
  while (true) {
    size_t read_bytes = 0;
    ERR_clear_error();
    const int rc = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &read_bytes);
    if (rc == 1)
      return IoResult{IoStatus::kOk, read_bytes, {}};
    const int ssl_error = SSL_get_error(ssl_.get(), rc);
    switch (ssl_error) {
      case SSL_ERROR_WANT_READ: {
        if (FlushOutput() == PumpResult::kFailed)
          return Broken();
        if (input_ended_) {  // OpenSSL should have failed on the end of input; never spin.
          broken_ = Error{ErrorCode::kTlsTruncated,
                          fmt::format("the connection to {} was cut off (no TLS close_notify)",
                                      peer_description_)};
          return Broken();
        }
        switch (FillInput()) {
          case PumpResult::kProgress:
          case PumpResult::kEndOfStream:
            continue;
          case PumpResult::kBlocked:
            return IoResult{IoStatus::kWouldBlock, 0, {}};
          case PumpResult::kFailed:
            return Broken();
        }
        break;
      }
      case SSL_ERROR_WANT_WRITE:
        switch (FlushOutput()) {
          case PumpResult::kProgress:
            continue;
          case PumpResult::kFailed:
            return Broken();
          default:
            return IoResult{IoStatus::kWouldBlock, 0, {}};
        }
      case SSL_ERROR_ZERO_RETURN:
        peer_closed_ = true;
        return IoResult{IoStatus::kClosed, 0, {}};
      default:
        return FailFromSsl(ssl_error, /*in_handshake=*/false);
    }
  }
}

IoResult TlsTransport::Write(std::span<const uint8_t> data) {
  if (std::optional<IoResult> unusable = CheckUsable("write to"))
    return *unusable;
  if (FlushOutput() == PumpResult::kFailed)
    return Broken();
  size_t total = 0;
  while (total < data.size()) {
    if (BIO_ctrl_get_write_guarantee(ssl_bio_) < kWriteReserveBytes) {
      if (FlushOutput() == PumpResult::kFailed)
        break;
      if (BIO_ctrl_get_write_guarantee(ssl_bio_) < kWriteReserveBytes)
        break;
    }
    const size_t chunk = std::min(data.size() - total, kMaxRecordPlaintextBytes);
    size_t written = 0;
    ERR_clear_error();
    const int rc = SSL_write_ex(ssl_.get(), data.data() + total, chunk, &written);
    if (rc != 1) {
      const int ssl_error = SSL_get_error(ssl_.get(), rc);
      if (ssl_error == SSL_ERROR_WANT_WRITE || ssl_error == SSL_ERROR_WANT_READ) {
        // Cannot happen: a whole record fitted. OpenSSL may now hold part of a record
        // that only the same call could finish; stop rather than corrupt the stream.
        broken_ = Error{ErrorCode::kInternal,
                        fmt::format("TLS write to {} stalled unexpectedly", peer_description_)};
      } else {
        FailFromSsl(ssl_error, /*in_handshake=*/false);
      }
      break;
    }
    total += written;
  }
  if (!broken_)
    FlushOutput();
  // Bytes OpenSSL took are reported even if the connection then failed; the failure shows
  // on the next call.
  if (total > 0)
    return IoResult{IoStatus::kOk, total, {}};
  if (broken_)
    return Broken();
  if (data.empty())
    return IoResult{IoStatus::kOk, 0, {}};
  return IoResult{IoStatus::kWouldBlock, 0, {}};
}

int TlsTransport::fd() const {
  return inner_->fd();
}

short TlsTransport::PollEvents(bool want_write) const {
  if (!broken_ && !shut_down_)
    FlushOutput();
  return inner_->PollEvents(want_write || (!broken_ && HasPendingOutput()));
}

void TlsTransport::Shutdown() {
  if (shut_down_)
    return;
  shut_down_ = true;
  if (ssl_handshake_finished_ && !broken_) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // Queues close_notify; we do not wait for the peer's.
    ERR_clear_error();
    FlushWithTimeout(kShutdownFlushTimeoutMs);
  }
  inner_->Shutdown();
}

std::string TlsTransport::PeerDescription() const {
  return peer_description_;
}

bool TlsTransport::HasBufferedInput() const {
  // An inner transport that holds input (an outer TLS layer under this one, on a relay
  // connection) makes this one readable too.
  if (inner_->HasBufferedInput())
    return true;
  if (!handshake_done_)
    return false;
  // SSL_pending: decrypted bytes not yet read. Not SSL_has_pending(), which also counts a
  // partial record that cannot be read before more input arrives.
  return broken_.has_value() || peer_closed_ || input_ended_ || SSL_pending(ssl_.get()) > 0 ||
         BIO_ctrl_pending(ssl_bio_) > 0;
}

TlsTransport::PumpResult TlsTransport::FlushOutput() const {
  bool moved = false;
  while (true) {
    char* data = nullptr;
    const int available = BIO_nread0(network_bio_.get(), &data);
    if (available <= 0 || data == nullptr)
      return moved ? PumpResult::kProgress : PumpResult::kBlocked;
    const IoResult result =
        inner_->Write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), available));
    switch (result.status) {
      case IoStatus::kOk:
        if (result.bytes == 0)  // Not allowed by the contract; do not spin.
          return moved ? PumpResult::kProgress : PumpResult::kBlocked;
        BIO_nread(network_bio_.get(), &data, static_cast<int>(result.bytes));
        moved = true;
        break;
      case IoStatus::kWouldBlock:
        return moved ? PumpResult::kProgress : PumpResult::kBlocked;
      case IoStatus::kClosed:
        broken_ = Error{ErrorCode::kConnectionClosed,
                        fmt::format("{} closed the connection", peer_description_)};
        return PumpResult::kFailed;
      case IoStatus::kError:
        broken_ = result.error;
        return PumpResult::kFailed;
    }
  }
}

TlsTransport::PumpResult TlsTransport::FillInput() {
  if (input_ended_)
    return PumpResult::kEndOfStream;
  char* space = nullptr;
  const int available = BIO_nwrite0(network_bio_.get(), &space);
  if (available <= 0 || space == nullptr) {
    // OpenSSL asks for input while a full buffer of it waits: a bug, not a peer's doing.
    broken_ =
        Error{ErrorCode::kInternal, fmt::format("TLS input from {} is stuck", peer_description_)};
    return PumpResult::kFailed;
  }
  const IoResult result =
      inner_->Read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(space), available));
  switch (result.status) {
    case IoStatus::kOk:
      if (result.bytes == 0)
        return PumpResult::kBlocked;
      BIO_nwrite(network_bio_.get(), &space, static_cast<int>(result.bytes));
      return PumpResult::kProgress;
    case IoStatus::kWouldBlock:
      return PumpResult::kBlocked;
    case IoStatus::kClosed:
      input_ended_ = true;
      BIO_shutdown_wr(network_bio_.get());  // OpenSSL reads the end after what is buffered.
      return PumpResult::kEndOfStream;
    case IoStatus::kError:
      broken_ = result.error;
      return PumpResult::kFailed;
  }
  return PumpResult::kFailed;
}

void TlsTransport::FlushWithTimeout(int timeout_ms) {
  const int64_t deadline_us = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
  while (HasPendingOutput()) {
    if (FlushOutput() == PumpResult::kFailed || !HasPendingOutput())
      return;
    const int wait_ms = RemainingMs(deadline_us);
    if (wait_ms == 0)
      return;
    // POLLOUT only: input arriving meanwhile must not turn this into a busy loop.
    pollfd poll_fd{inner_->fd(), POLLOUT, 0};
    if (poll(&poll_fd, 1, wait_ms) < 0 && errno != EINTR)
      return;
  }
}

bool TlsTransport::HasPendingOutput() const {
  return BIO_ctrl_pending(network_bio_.get()) > 0;
}

IoResult TlsTransport::FailFromSsl(int ssl_error, bool in_handshake) {
  const unsigned long first_error = ERR_peek_error();
  const bool ssl_library = ERR_GET_LIB(first_error) == ERR_LIB_SSL;
  const int reason = ERR_GET_REASON(first_error);
  const bool unexpected_eof = (ssl_library && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
                              (ssl_error == SSL_ERROR_SYSCALL && input_ended_);
  std::string reason_text = OpenSslErrorReason(
      ssl_error == SSL_ERROR_SYSCALL ? "the connection ended" : "unknown TLS error");
  if (broken_)  // The inner transport failed first; its error says more.
    return Broken();
  if (in_handshake) {
    // Let the peer learn why (e.g. a protocol_version alert); best effort.
    FlushOutput();
    if (broken_)
      broken_.reset();
    ErrorCode code = ErrorCode::kTlsHandshakeFailed;
    std::string detail = reason_text;
    if (ssl_library &&
        (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)) {
      code = ErrorCode::kTlsProtocolTooOld;
      detail = fmt::format("{} (the peer does not support TLS 1.3)", reason_text);
    } else if (unexpected_eof) {
      detail = fmt::format("the peer closed the connection ({})", reason_text);
    } else if (ssl_library &&
               (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
                reason == SSL_R_HTTPS_PROXY_REQUEST || reason == SSL_R_PACKET_LENGTH_TOO_LONG)) {
      // E.g. a peer without TLS (an older Lifeline), or a proxy's plain-text answer.
      detail = fmt::format("the peer does not seem to speak TLS ({})", reason_text);
    } else if (ssl_library && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      detail = fmt::format("{} ({})", reason_text,
                           X509_verify_cert_error_string(SSL_get_verify_result(ssl_.get())));
    }
    broken_ =
        Error{code, fmt::format("TLS handshake with {} failed: {}", peer_description_, detail)};
  } else if (unexpected_eof) {
    broken_ = Error{ErrorCode::kTlsTruncated,
                    fmt::format("the connection to {} was cut off: the stream ended without "
                                "TLS close_notify ({})",
                                peer_description_, reason_text)};
  } else {
    broken_ = Error{ErrorCode::kTlsError, fmt::format("TLS error on the connection to {}: {}",
                                                      peer_description_, reason_text)};
  }
  return Broken();
}

IoResult TlsTransport::Broken() const {
  return ErrorResult(*broken_);
}

Expected<std::unique_ptr<TlsTransport>> TlsHandshake(std::unique_ptr<Transport> inner,
                                                     TlsRole role,
                                                     const DeviceIdentity& identity,
                                                     int timeout_ms,
                                                     const std::atomic<bool>* cancel) {
  if (!inner)
    return Error{ErrorCode::kInvalidArgument, "TLS needs a transport to run over"};
  const std::string peer = inner->PeerDescription();
  const int64_t deadline_us = MonotonicNowUs() + int64_t{std::max(timeout_ms, 0)} * 1000;
  auto created = TlsTransport::Create(std::move(inner), role, identity);
  if (!created.ok())
    return created.error();
  std::unique_ptr<TlsTransport> transport = std::move(created).value();
  while (true) {
    if (cancel != nullptr && cancel->load()) {
      return Error{ErrorCode::kCancelled, fmt::format("TLS handshake with {} was cancelled", peer)};
    }
    const IoResult result = transport->ContinueHandshake();
    if (result.status == IoStatus::kOk)
      break;
    if (result.status != IoStatus::kWouldBlock)
      return result.error;
    int wait_ms = cancel != nullptr ? kCancelCheckSliceMs : -1;
    if (timeout_ms >= 0) {
      const int remaining_ms = RemainingMs(deadline_us);
      if (remaining_ms == 0) {
        return Error{
            ErrorCode::kConnectionTimedOut,
            fmt::format("TLS handshake with {} did not finish within {} ms", peer, timeout_ms)};
      }
      wait_ms = wait_ms < 0 ? remaining_ms : std::min(wait_ms, remaining_ms);
    }
    if (transport->HasBufferedInput())
      continue;  // Input waits in a layer below (TLS over TLS): no poll.
    pollfd poll_fd{transport->fd(), transport->PollEvents(false), 0};
    if (poll(&poll_fd, 1, wait_ms) < 0 && errno != EINTR) {
      return Error{ErrorCode::kNetworkIo,
                   fmt::format("waiting for the TLS handshake with {} failed: {}", peer,
                               net_internal::ErrnoText(errno))};
    }
  }
  log::Info("secure connection with {}: {} {}, peer key {}", peer, transport->protocol_version(),
            transport->cipher(), ShortFingerprint(transport->peer_fingerprint()));
  return transport;
}

}  // namespace lifeline
