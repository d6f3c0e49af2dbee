// TlsTransport: the inner, end-to-end TLS 1.3 layer between viewer and host (security.md
// §2.2, §2.6), as a Transport over any other Transport (TCP now; proxy tunnels and relay
// streams later).
//
// OpenSSL never sees a socket: it reads and writes a BIO pair in memory, and this class
// pumps ciphertext between that pair and the inner Transport's non-blocking Read/Write.
//
// SECURITY
//   TLS 1.3 only (min = max), no fallback of any kind. No resumption (no tickets, no
//   session cache, no early data), so every connection runs the PAKE. Both sides present
//   their self-signed DeviceIdentity certificate. The server requires one (any
//   self-signed certificate passes); the client does not verify the server's. Neither
//   side is authenticated by TLS: the PAKE, bound to channel_binding(), authenticates
//   both, and callers must not accept application data before its confirmation. An end of
//   stream without close_notify is an error (kTlsTruncated), never a clean close.
//
// THREADING
//   Like every Transport: one thread at a time (the MessageChannel's network thread once
//   the channel runs). The getters that describe the finished handshake (channel_binding,
//   peer_fingerprint, cipher, protocol_version) return values fixed at its end and may be
//   called from any thread after TlsHandshake() returned.
//
// BUFFERING (what callers of a non-blocking TLS transport must know)
//   - Write() returns kOk once OpenSSL has encrypted the bytes; the ciphertext may wait in
//     memory (at most ~64 KiB) until the inner transport takes it. Every later Read(),
//     Write() and PollEvents() call pushes it on (PollEvents asks for POLLOUT while any
//     waits), and Shutdown() waits up to 1 s for it. So a caller with nothing more to write
//     must still call PollEvents() before each poll(), as MessageChannel does.
//   - Read() may take more ciphertext from the inner transport than it returns; what it
//     holds does not make the fd readable. Read until kWouldBlock before polling for
//     input, or check HasBufferedInput().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "net/openssl_handles.h"
#include "net/tls/device_identity.h"
#include "net/transport.h"

namespace lifeline {

enum class TlsRole { kClient, kServer };

inline constexpr size_t kChannelBindingBytes = 32;
// RFC 9266 tls-exporter label; 32 bytes, no context.
inline constexpr char kChannelBindingLabel[] = "EXPORTER-Channel-Binding";

class TlsTransport final : public Transport {
 public:
  // Sets up TLS over `inner` without sending anything; drive the handshake with
  // ContinueHandshake() (or use TlsHandshake() below). `identity` is only read here (its
  // key and certificate are referenced by OpenSSL, so it may be destroyed afterwards).
  // Error kInternal when OpenSSL cannot set up (a bug or out of memory).
  static Expected<std::unique_ptr<TlsTransport>> Create(std::unique_ptr<Transport> inner,
                                                        TlsRole role,
                                                        const DeviceIdentity& identity);
  // Sends close_notify if it has not been sent (see Shutdown()), then closes the inner
  // transport.
  ~TlsTransport() override;

  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // Advances the handshake without blocking.
  //   kOk         done, and all our handshake bytes were handed to the inner transport;
  //               Read/Write may be used. Repeated calls keep returning kOk.
  //   kWouldBlock poll fd() for PollEvents(false), then call again.
  //   kError      failed for good (sticky), `error` names the peer and the reason:
  //               kTlsProtocolTooOld  the peer offers no TLS 1.3;
  //               kTlsHandshakeFailed anything else TLS says (garbage instead of TLS, a
  //                                   missing or unacceptable client certificate, the
  //                                   peer closed the connection, an alert...);
  //               the inner transport's own error (e.g. kNetworkIo) if it failed.
  // In TLS 1.3 the client is done before the server has checked the client's certificate:
  // a refusal reaches the client as kTlsError from its first Read().
  IoResult ContinueHandshake();
  bool handshake_done() const { return handshake_done_; }

  // Transport. Read/Write before the handshake is done: kError kInternal.
  //   Read:  kOk with plaintext; kWouldBlock; kClosed after the peer's close_notify;
  //          kError (sticky) with kTlsTruncated (end of stream without close_notify),
  //          kTlsError (bad record, alert...), kConnectionClosed (after Shutdown()), or
  //          the inner transport's error.
  //   Write: kOk with the number of plaintext bytes taken (maybe fewer than given);
  //          kWouldBlock; kError as for Read. An empty `data` only pushes waiting
  //          ciphertext on and returns kOk with 0 bytes.
  IoResult Read(std::span<uint8_t> buffer) override;
  IoResult Write(std::span<const uint8_t> data) override;
  // The inner transport's descriptor.
  int fd() const override;
  // The inner transport's events for reading, plus POLLOUT when `want_write` or ciphertext
  // waits. Side effect: first hands waiting ciphertext to the inner transport (see
  // BUFFERING); an inner failure then shows in the next Read/Write.
  short PollEvents(bool want_write) const override;
  // Sends close_notify (after a completed handshake, unless the connection failed),
  // waits up to 1 s for waiting ciphertext to leave, then shuts the inner transport down.
  // Later reads and writes fail with kConnectionClosed. Idempotent.
  void Shutdown() override;
  std::string PeerDescription() const override;

  // True when Read() may return data (or a result) without new input on fd(): call Read()
  // before polling for input (it may find only part of a record, once). False: poll.
  bool HasBufferedInput() const override;

  // After the handshake (empty/zero before):
  // TLS-Exporter("EXPORTER-Channel-Binding", no context, 32) (RFC 9266); equal on both
  // sides of one TLS session, different for every session. Feed it to the PAKE.
  const std::array<uint8_t, kChannelBindingBytes>& channel_binding() const {
    return channel_binding_;
  }
  // DeviceIdentity::FingerprintOf() the peer's certificate.
  const std::string& peer_fingerprint() const { return peer_fingerprint_; }
  // E.g. "TLS_AES_256_GCM_SHA384".
  const std::string& cipher() const { return cipher_; }
  // E.g. "TLSv1.3".
  const std::string& protocol_version() const { return protocol_version_; }

 private:
  enum class PumpResult { kProgress, kBlocked, kEndOfStream, kFailed };

  TlsTransport(std::unique_ptr<Transport> inner,
               openssl::SslPtr ssl,
               BIO* ssl_bio,
               openssl::BioPtr network_bio);

  // Hands waiting ciphertext to the inner transport until none waits or it would block.
  // kProgress: some moved (maybe all); kBlocked: none could; kFailed: inner error
  // (stored in broken_). const because PollEvents() needs it (see BUFFERING).
  PumpResult FlushOutput() const;
  // One inner Read() into the BIO pair. kEndOfStream also shuts the pair's input so
  // OpenSSL sees the end.
  PumpResult FillInput();
  // Blocks up to `timeout_ms` until no ciphertext waits (best effort, for Shutdown()).
  void FlushWithTimeout(int timeout_ms);
  bool HasPendingOutput() const;
  // Records the failure of the last OpenSSL call (`ssl_error` from SSL_get_error) in
  // broken_, classified for the handshake or for the data phase, and returns it.
  IoResult FailFromSsl(int ssl_error, bool in_handshake);
  IoResult Broken() const;
  // The error result Read()/Write() give when the transport is broken, shut down or not
  // yet through its handshake; nullopt when `operation` may go ahead.
  std::optional<IoResult> CheckUsable(const char* operation) const;
  bool FinishHandshake();

  // Declared first: destroyed last, after the SSL objects that pump into it.
  const std::unique_ptr<Transport> inner_;
  const std::string peer_description_;
  openssl::SslPtr ssl_;
  BIO* ssl_bio_;                 // Owned by ssl_: OpenSSL's half of the pair.
  openssl::BioPtr network_bio_;  // Our half: ciphertext out of and into ssl_.

  bool ssl_handshake_finished_ = false;  // SSL_do_handshake() returned 1.
  bool handshake_done_ = false;          // ... and our last flight left.
  bool input_ended_ = false;             // The inner transport reported end of stream.
  bool peer_closed_ = false;             // close_notify received.
  bool shut_down_ = false;
  mutable std::optional<Error> broken_;  // Sticky failure; mutable for FlushOutput().

  std::array<uint8_t, kChannelBindingBytes> channel_binding_{};
  std::string peer_fingerprint_;
  std::string cipher_;
  std::string protocol_version_;
};

// Runs the whole handshake over `inner` (already connected, non-blocking), polling its fd
// for up to `timeout_ms` (< 0: no limit), checking `*cancel` every 50 ms. Used before a
// MessageChannel starts. Errors, each naming inner->PeerDescription() ("TLS handshake with
// 127.0.0.1:5000 failed: unsupported protocol"):
//   those of TlsTransport::Create() and ContinueHandshake(), and
//   kConnectionTimedOut  not done within `timeout_ms`;
//   kCancelled           `*cancel` became true.
// The inner transport is closed on failure.
Expected<std::unique_ptr<TlsTransport>> TlsHandshake(std::unique_ptr<Transport> inner,
                                                     TlsRole role,
                                                     const DeviceIdentity& identity,
                                                     int timeout_ms,
                                                     const std::atomic<bool>* cancel = nullptr);

}  // namespace lifeline
