// The client side of `lifeline-relay` (hosts and viewers). No asio here: blocking calls
// over the non-blocking Transport, for worker threads.
//
// TRUST
//   Every connection to the relay goes out through ConnectOutbound() (direct or proxy),
//   then outer TLS 1.3 (TlsTransport, our device certificate as client certificate).
//   The relay's key is pinned: the SHA-256 of its public key must equal `pin`, otherwise
//   kRelayCertificateInvalid and nothing is sent. The relay's ID statements are checked
//   with that same pinned key (VerifyRelayBinding); a bad one is kRelayBindingInvalid.
//   The relay is still untrusted for content: sessions run the inner end-to-end TLS +
//   SPAKE2 over the spliced stream, and the viewer checks that the inner TLS peer key is
//   the one the relay bound to the ID.
//
// FALLBACK
//   When the relay's address does not answer (refused, timed out, unreachable), the
//   fallback address is tried (port 443 of the same host unless set). A relay that
//   answers with the wrong key is never retried elsewhere.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"
#include "net/proxy/outbound.h"
#include "net/proxy/proxy_config.h"
#include "net/relay/relay_protocol.h"
#include "net/tcp.h"
#include "net/tls/device_identity.h"
#include "net/transport.h"

namespace lifeline {

struct RelayEndpoint {
  HostPort address;
  std::optional<HostPort> fallback;  // Unset: port 443 of address.host.
  std::string pin;                   // 64 lowercase hex digits (NormalizeRelayPin).
  ProxyConfig proxy;
  int connect_timeout_ms = 10'000;  // TCP/proxy + outer TLS, per address tried.
};

// Lowercases, drops ':' and spaces; must then be 64 hex digits. Error kInvalidArgument.
Expected<std::string> NormalizeRelayPin(std::string_view text);

// Checks a relay statement: SHA-256 of binding.relay_spki equals `pin`, the Ed25519
// signature over BindingSignedBytes() verifies with that key, the ID is 9 digits.
// Error kRelayBindingInvalid saying which check failed.
Status VerifyRelayBinding(const RelayBinding& binding, std::string_view pin);

struct RelayConnection {
  std::unique_ptr<Transport> stream;          // The outer TLS stream to the relay.
  std::array<uint8_t, 32> channel_binding{};  // Its TLS exporter (for the device proof).
  HostPort address;                           // The address that answered.
  std::string route;                          // "direct", "HTTP proxy ...", for status text.
};

// Connects to the relay (fallback as above) and runs the outer TLS handshake, checking
// the pin. Errors: kRelayUnreachable (names the addresses tried), kRelayCertificateInvalid,
// proxy errors from ConnectOutbound as they are, kTlsHandshakeFailed, kCancelled.
Expected<RelayConnection> ConnectToRelay(const RelayEndpoint& endpoint,
                                         const DeviceIdentity& identity,
                                         const std::atomic<bool>* cancel);

// Fills message->device_spki and device_proof: our device key and its signature over
// this connection's TLS exporter (relay_protocol.h). Error kInternal.
Status AddDeviceProof(const DeviceIdentity& identity,
                      const RelayConnection& connection,
                      RelayMessage* message);

// Blocking message I/O on a relay stream, polling at most `timeout_ms`.
// Send: errors kConnectionTimedOut, kCancelled, the transport's errors.
Status SendRelayMessage(Transport* stream,
                        const RelayMessage& message,
                        int timeout_ms,
                        const std::atomic<bool>* cancel);
// Receive reads exactly one message and not a byte more (what follows a Paired message
// is the spliced stream). Errors kConnectionTimedOut, kCancelled, kRelayProtocol,
// kConnectionClosed, the transport's errors.
Expected<RelayMessage> ReceiveRelayMessage(Transport* stream,
                                           int timeout_ms,
                                           const std::atomic<bool>* cancel);

// Viewer: asks the relay for `id` and waits to be paired. On success `stream` carries the
// host's inner TLS; check the inner peer fingerprint against `binding.fingerprint`.
// Errors: those of ConnectToRelay, kPeerUnknownOrOffline (unknown, offline or
// rate-limited: one answer), kRelayBindingInvalid, kRelayProtocol.
struct RelayPairing {
  std::unique_ptr<Transport> stream;
  RelayBinding binding;
  std::string relay_address;
  std::string route;
};
Expected<RelayPairing> ConnectViaRelay(const RelayEndpoint& endpoint,
                                       const DeviceIdentity& identity,
                                       std::string_view id,
                                       const std::atomic<bool>* cancel);

// Host: keeps a registration alive and announces incoming viewers.
//
// THREADING: Start() creates the "relay control" thread, which connects, registers,
// answers and sends keep-alives, and reconnects with back-off (250 ms doubling, capped at
// 2 s, so a host is back within 5 s of the relay) until Stop(). The status callback runs
// on that thread. NextIncoming() and OpenDataConnection() are called by one other thread
// (the host service thread). Stop() from any thread except the callback.
class RelayHostClient {
 public:
  enum class Event { kConnecting, kRegistered, kUnreachable, kFatal };
  struct Update {
    Event event = Event::kConnecting;
    std::string text;  // "Connected to relay 127.0.0.1:7000 (direct)".
    std::string id;    // kRegistered: the relay's ID for this device.
    std::string relay_address;
    int retry_in_ms = 0;  // kUnreachable.
    Error error;          // kUnreachable, kFatal.
  };
  using StatusCallback = std::function<void(const Update&)>;

  // `identity` must outlive the client.
  RelayHostClient(RelayEndpoint endpoint, const DeviceIdentity* identity, StatusCallback callback);
  ~RelayHostClient();  // Stop().

  void Start();
  void Stop();

  // Waits up to `timeout_ms` for a viewer announced by the relay and returns its token.
  // kConnectionTimedOut when none; kCancelled after Stop(); a fatal error
  // (kRelayCertificateInvalid, kRelayBindingInvalid) when the relay cannot be trusted.
  Expected<std::string> NextIncoming(int timeout_ms);
  // Opens the data connection for `token` (new outer TLS connection + Accept). The
  // returned stream is spliced to the viewer.
  Expected<std::unique_ptr<Transport>> OpenDataConnection(const std::string& token);

  static constexpr size_t kMaxPendingIncoming = 8;

 private:
  void ControlLoop();
  // One registered connection's life; returns why it ended.
  Error ServeControl(RelayConnection connection);
  void Report(Update update);

  const RelayEndpoint endpoint_;
  const DeviceIdentity* const identity_;
  const StatusCallback callback_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> incoming_;   // Guarded by mutex_; at most kMaxPendingIncoming.
  std::optional<Error> fatal_;         // Guarded by mutex_.
  std::optional<HostPort> connected_;  // Guarded by mutex_: the address that answered.
  std::atomic<bool> stop_{false};
  std::mutex thread_mutex_;  // Start() and Stop() from different threads.
  std::thread thread_;       // Guarded by thread_mutex_.
};

}  // namespace lifeline
