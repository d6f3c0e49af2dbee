// RelayServer: the core of `lifeline-relay` (security.md §2.2, §2.7, §2.8). Hosts keep a
// control connection registered under a stable ID; a viewer asks for an ID; the relay
// pairs the viewer's connection with a fresh data connection from the host and forwards
// bytes both ways. It never sees inside the inner, end-to-end TLS stream.
//
// CONNECTIONS
//   Every connection is outer TLS 1.3 with the relay's Ed25519 key. Hosts prove their
//   device key in Register/Accept (a signature over this TLS session's exporter), so the
//   relay learns the key fingerprint with proof of possession. (Not a TLS client
//   certificate: OpenSSL would keep the parsed X509, ~2.4 KB, for every idle host.)
//   One relay message (relay_protocol.h) says what the connection is:
//     Register  -> host control connection: Registered(signed binding, keep-alive interval);
//                  later Incoming(token) for each viewer; Ping/Pong.
//     Connect   -> viewer: unknown, offline and rate-limited IDs all get Refused
//                  (kPeerUnknownOrOffline) after the same fixed delay (`refuse_delay_ms`);
//                  an online host gets Incoming(token) and the viewer waits.
//     Accept    -> host data connection (same device key as the registered host, token
//                  from Incoming): the viewer gets Paired(binding) and the two are spliced.
//   Malformed input closes that one connection.
//
// FORWARDING
//   Each connection's TLS uses memory BIOs and SSL_MODE_RELEASE_BUFFERS; a shared read
//   buffer is used only while data flows, so an idle connection holds no I/O buffer.
//   Back-pressure: while the ciphertext waiting for one side exceeds `max_buffered_bytes`,
//   the relay stops reading the other side (and resumes below half of it).
//
// THREADING
//   All connection state lives on one I/O thread (asio io_context): Run() on the caller's
//   thread, or Start() on a thread the server owns. Stop() and metrics() may be called from
//   any thread. The capture hook is called on the I/O thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"
#include "net/relay/id_store.h"
#include "net/relay/relay_key.h"
#include "net/tcp.h"

namespace lifeline {

struct RelayServerOptions {
  std::string listen = "127.0.0.1:7000";
  std::string fallback_listen;         // Second port with the same service ("443"); "" none.
  std::string metrics_listen;          // /metrics and /healthz over plain HTTP; "" none.
  int keepalive_interval_ms = 15'000;  // Told to hosts; silent for 3x -> closed.
  int handshake_timeout_ms = 10'000;   // TLS + first message.
  int pair_timeout_ms = 10'000;        // Host must open its data connection within this.
  int refuse_delay_ms = 300;           // Every negative Connect answer waits this long.
  // Token buckets (rate <= 0: off).
  double source_connections_per_s = 20;  // New connections per source address.
  double source_burst = 40;
  double id_requests_per_s = 2;  // Connect requests per target ID.
  double id_burst = 10;
  size_t max_buffered_bytes = 256 * 1024;  // Per direction, see FORWARDING.
  size_t max_connections = 200'000;
  // Tests only: sees every byte the relay forwards between paired clients.
  std::function<void(std::span<const uint8_t>)> capture_hook;
};

struct RelayMetrics {
  uint64_t registered_hosts = 0;
  uint64_t active_pairs = 0;
  uint64_t bytes_forwarded = 0;
  uint64_t rate_limited = 0;
  uint64_t connections_open = 0;
  uint64_t connections_total = 0;
};

class RelayServer {
 public:
  // Binds the listeners (port 0: free ports). Errors: kAddressInvalid, kListenFailed.
  static Expected<std::unique_ptr<RelayServer>> Create(RelayServerOptions options,
                                                       RelayKey key,
                                                       std::unique_ptr<IdStore> store);
  ~RelayServer();  // Stop().

  HostPort listen_address() const;
  HostPort fallback_address() const;  // port 0 when none.
  HostPort metrics_address() const;   // port 0 when none.
  const std::string& pin() const;

  void Run();    // Serves on the calling thread until Stop().
  void Start();  // Serves on a thread owned by the server.
  void Stop();   // Any thread; closes every connection. Idempotent.

  RelayMetrics metrics() const;
  // The Prometheus text the metrics endpoint serves.
  std::string MetricsText() const;

  struct Impl;

 private:
  explicit RelayServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lifeline
