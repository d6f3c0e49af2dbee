#include "net/relay/relay_server.h"

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>
#include <unordered_map>

#include "base/log.h"
#include "base/time.h"
#include "net/relay/rate_limiter.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"

namespace lifeline {
namespace {

using asio::ip::tcp;

constexpr size_t kSocketReadBytes = 64 * 1024;   // Shared buffer: one I/O thread.
constexpr size_t kMaxReadPerEvent = 256 * 1024;  // Fairness between connections.
constexpr int kSweepIntervalMs = 250;
constexpr int kCloseGraceMs = 5'000;
constexpr int64_t kPruneIntervalUs = 10'000'000;

enum class ConnState : uint8_t {
  kHandshake,      // Outer TLS.
  kAwaitFirst,     // TLS done; the first relay message says what this is.
  kHostControl,    // Registered host.
  kViewerWaiting,  // Asked for an ID; waiting for the host or for its refusal.
  kSpliced,        // Forwarding to `peer`.
  kClosing,        // close_notify queued; waiting for the output to leave.
  kClosed,
};

struct Conn {
  explicit Conn(tcp::socket s) : socket(std::move(s)) {}
  ~Conn() { SSL_free(ssl); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  tcp::socket socket;
  SSL* ssl = nullptr;  // Owns rbio and wbio.
  BIO* rbio = nullptr;
  BIO* wbio = nullptr;
  ConnState state = ConnState::kHandshake;
  bool read_armed = false;
  bool write_armed = false;
  bool paused = false;       // Back-pressure: not reading while the peer's output is full.
  bool input_ended = false;  // The socket reported end of stream.
  int64_t deadline_us = 0;   // Handshake, first message, pairing, closing.
  int64_t last_heard_us = 0;
  std::string fingerprint;  // Device key, after the handshake.
  std::string id;           // Host control: the ID it is registered under.
  uint64_t issued_at_unix_s = 0;
  std::string token;  // Viewer waiting: its pairing token ("" when refused).
  std::shared_ptr<Conn> peer;
  std::unique_ptr<asio::steady_timer> timer;  // Viewer refusal only.
  RelayMessageReader reader;
};
using ConnPtr = std::shared_ptr<Conn>;

struct PendingPair {
  std::weak_ptr<Conn> viewer;
  std::string host_id;
};

uint64_t UnixNow() {
  return static_cast<uint64_t>(std::time(nullptr));
}

Expected<tcp::endpoint> ResolveListen(asio::io_context& io, const std::string& text) {
  auto address = ParseListenAddress(text);
  if (!address.ok())
    return address.error();
  asio::error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(address->host, std::to_string(address->port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return Error{ErrorCode::kAddressInvalid, "cannot resolve " + text + ": " + ec.message()};
  return results.begin()->endpoint();
}

Expected<std::unique_ptr<tcp::acceptor>> OpenAcceptor(asio::io_context& io,
                                                      const std::string& text) {
  auto endpoint = ResolveListen(io, text);
  if (!endpoint.ok())
    return endpoint.error();
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  asio::error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec)
    acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acceptor->bind(*endpoint, ec);
  if (!ec)
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error{ErrorCode::kListenFailed, "cannot listen on " + text + ": " + ec.message()};
  return acceptor;
}

HostPort ToHostPort(const std::unique_ptr<tcp::acceptor>& acceptor) {
  if (!acceptor)
    return {};
  asio::error_code ec;
  auto endpoint = acceptor->local_endpoint(ec);
  return HostPort{endpoint.address().to_string(), endpoint.port()};
}

}  // namespace

struct RelayServer::Impl {
  Impl(RelayServerOptions o, RelayKey k, std::unique_ptr<IdStore> s)
      : options(std::move(o)),
        key(std::move(k)),
        store(std::move(s)),
        sweep_timer(io),
        source_limiter(options.source_connections_per_s, options.source_burst),
        id_limiter(options.id_requests_per_s, options.id_burst) {}

  RelayServerOptions options;
  RelayKey key;
  std::unique_ptr<IdStore> store;
  asio::io_context io;
  std::unique_ptr<tcp::acceptor> listener, fallback, metrics_listener;
  asio::steady_timer sweep_timer;
  openssl::SslCtxPtr ctx;
  RateLimiter source_limiter;
  RateLimiter id_limiter;
  int64_t last_prune_us = 0;

  std::unordered_map<Conn*, ConnPtr> conns;
  std::unordered_map<std::string, Conn*> hosts_by_id;
  std::unordered_map<std::string, Conn*> hosts_by_fingerprint;
  std::unordered_map<std::string, PendingPair> pending;

  std::atomic<uint64_t> registered_hosts{0}, active_pairs{0}, bytes_forwarded{0}, rate_limited{0},
      connections_open{0}, connections_total{0};
  std::atomic<bool> stopped{false};
  std::atomic<bool> running{false};  // Run() or Start() began serving.
  std::thread thread;

  uint8_t read_buffer[kSocketReadBytes];
  uint8_t plain_buffer[kSocketReadBytes];

  // --- setup ------------------------------------------------------------------------
  Status Init() {
    ctx.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* c = ctx.get();
    if (!c || SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate(c, key.certificate()) != 1 ||
        SSL_CTX_use_PrivateKey(c, key.key()) != 1)
      return Error{ErrorCode::kInternal, "cannot set up the relay's TLS"};
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(c, 0);
    SSL_CTX_set_max_early_data(c, 0);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    // No client certificate is requested: hosts prove their device key inside the
    // connection (Register/Accept carry a signature over this TLS session's exporter),
    // so OpenSSL does not keep a parsed certificate for every idle host.
    auto main = OpenAcceptor(io, options.listen);
    if (!main.ok())
      return main.error();
    listener = std::move(main).value();
    if (!options.fallback_listen.empty()) {
      auto fb = OpenAcceptor(io, options.fallback_listen);
      if (!fb.ok())
        return fb.error();
      fallback = std::move(fb).value();
    }
    if (!options.metrics_listen.empty()) {
      auto m = OpenAcceptor(io, options.metrics_listen);
      if (!m.ok())
        return m.error();
      metrics_listener = std::move(m).value();
    }
    if (auto count = store->Count(); count.ok())
      log::Info("relay: {} IDs in the store", *count);
    return {};
  }

  void StartServing() {
    AcceptNext(listener.get());
    if (fallback)
      AcceptNext(fallback.get());
    if (metrics_listener)
      AcceptMetrics();
    ScheduleSweep();
  }

  // --- accepting ----------------------------------------------------------------------
  void AcceptNext(tcp::acceptor* acceptor) {
    acceptor->async_accept([this, acceptor](asio::error_code ec, tcp::socket socket) {
      if (stopped.load() || ec == asio::error::operation_aborted)
        return;
      if (!ec)
        OnAccepted(std::move(socket));
      AcceptNext(acceptor);
    });
  }

  void OnAccepted(tcp::socket socket) {
    asio::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec)
      return;
    const int64_t now = MonotonicNowUs();
    if (!source_limiter.Allow(remote.address().to_string(), now) ||
        conns.size() >= options.max_connections) {
      ++rate_limited;
      socket.close(ec);
      return;
    }
    socket.non_blocking(true, ec);
    socket.set_option(tcp::no_delay(true), ec);
    auto conn = std::make_shared<Conn>(std::move(socket));
    conn->ssl = SSL_new(ctx.get());
    conn->rbio = BIO_new(BIO_s_mem());
    conn->wbio = BIO_new(BIO_s_mem());
    if (!conn->ssl || !conn->rbio || !conn->wbio) {
      BIO_free(conn->rbio);
      BIO_free(conn->wbio);
      SSL_free(conn->ssl);
      conn->ssl = nullptr;
      return;
    }
    BIO_set_mem_eof_return(conn->rbio, -1);  // Empty means "retry", not end of stream.
    BIO_set_mem_eof_return(conn->wbio, -1);
    SSL_set_bio(conn->ssl, conn->rbio, conn->wbio);
    SSL_set_accept_state(conn->ssl);
    conn->deadline_us = now + int64_t{options.handshake_timeout_ms} * 1000;
    conn->last_heard_us = now;
    conns.emplace(conn.get(), conn);
    ++connections_open;
    ++connections_total;
    ArmRead(conn);
  }

  // --- socket I/O -----------------------------------------------------------------------
  void ArmRead(const ConnPtr& conn) {
    if (conn->read_armed || conn->paused || conn->input_ended || conn->state == ConnState::kClosed)
      return;
    conn->read_armed = true;
    conn->socket.async_wait(tcp::socket::wait_read, [this, conn](asio::error_code ec) {
      conn->read_armed = false;
      if (ec || conn->state == ConnState::kClosed)
        return;
      OnReadable(conn);
    });
  }

  void ArmWrite(const ConnPtr& conn) {
    if (conn->write_armed || conn->state == ConnState::kClosed)
      return;
    conn->write_armed = true;
    conn->socket.async_wait(tcp::socket::wait_write, [this, conn](asio::error_code ec) {
      conn->write_armed = false;
      if (ec || conn->state == ConnState::kClosed)
        return;
      Flush(conn);
    });
  }

  void OnReadable(const ConnPtr& conn) {
    size_t total = 0;
    while (total < kMaxReadPerEvent) {
      asio::error_code ec;
      const size_t n = conn->socket.read_some(asio::buffer(read_buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again)
        break;
      if (ec) {
        conn->input_ended = true;
        break;
      }
      BIO_write(conn->rbio, read_buffer, static_cast<int>(n));
      total += n;
      if (n < sizeof(read_buffer))
        break;
    }
    conn->last_heard_us = MonotonicNowUs();
    Process(conn);
  }

  // Writes waiting ciphertext; arms a write wait when the socket is full.
  void Flush(const ConnPtr& conn) {
    if (conn->state == ConnState::kClosed)
      return;
    while (BIO_ctrl_pending(conn->wbio) > 0) {
      char* data = nullptr;
      const long length = BIO_get_mem_data(conn->wbio, &data);
      asio::error_code ec;
      const size_t n = conn->socket.write_some(asio::buffer(data, static_cast<size_t>(length)), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ArmWrite(conn);
        return;
      }
      if (ec) {
        Destroy(conn);
        return;
      }
      // Drop what left (a mem BIO has no "skip": read it into scratch space).
      size_t left = n;
      while (left > 0) {
        const int chunk = static_cast<int>(std::min(left, sizeof(plain_buffer)));
        BIO_read(conn->wbio, read_buffer, chunk);
        left -= static_cast<size_t>(chunk);
      }
    }
    if (conn->state == ConnState::kClosing) {
      Destroy(conn);
      return;
    }
    // Output drained: let the peer's input flow again (back-pressure release).
    if (conn->peer && conn->peer->paused &&
        BIO_ctrl_pending(conn->wbio) <= options.max_buffered_bytes / 2) {
      ConnPtr peer = conn->peer;
      peer->paused = false;
      asio::post(io, [this, peer] {
        if (peer->state == ConnState::kSpliced)
          Forward(peer);
      });
    }
  }

  bool Send(const ConnPtr& conn, const RelayMessage& message) {
    auto bytes = EncodeRelayMessage(message);
    if (!bytes.ok() || SSL_write(conn->ssl, bytes->data(), static_cast<int>(bytes->size())) <= 0) {
      Destroy(conn);
      return false;
    }
    Flush(conn);
    return conn->state != ConnState::kClosed;
  }

  // --- the state machine ------------------------------------------------------------------
  void Process(const ConnPtr& conn) {
    if (conn->state == ConnState::kHandshake) {
      const int r = SSL_do_handshake(conn->ssl);
      Flush(conn);
      if (conn->state == ConnState::kClosed)
        return;
      if (r != 1) {
        const int err = SSL_get_error(conn->ssl, r);
        if (err != SSL_ERROR_WANT_READ || conn->input_ended) {
          Destroy(conn);
          return;
        }
        ArmRead(conn);
        return;
      }
      conn->state = ConnState::kAwaitFirst;
    }
    if (conn->state == ConnState::kSpliced) {
      Forward(conn);
      return;
    }
    if (conn->state == ConnState::kClosing) {
      if (conn->input_ended)
        Destroy(conn);
      return;
    }
    // Relay messages, in small pieces: a message is at most ~1 KiB.
    uint8_t buffer[kMaxRelayBodyBytes + kRelayHeaderBytes];
    while (conn->state != ConnState::kClosed && conn->state != ConnState::kSpliced &&
           conn->state != ConnState::kClosing) {
      const int n = SSL_read(conn->ssl, buffer, sizeof(buffer));
      if (n <= 0) {
        const int err = SSL_get_error(conn->ssl, n);
        if (err == SSL_ERROR_WANT_READ && !conn->input_ended)
          break;
        Destroy(conn);  // close_notify, end of stream, or a TLS error.
        return;
      }
      std::span<const uint8_t> input(buffer, static_cast<size_t>(n));
      while (!input.empty() && conn->state != ConnState::kClosed) {
        RelayMessage message;
        const auto result = conn->reader.Read(&input, &message);
        if (result == RelayMessageReader::Result::kNeedMore)
          break;
        if (result == RelayMessageReader::Result::kError) {
          log::Debug("relay: closing a connection: {}", conn->reader.error().message);
          Destroy(conn);
          return;
        }
        OnMessage(conn, message);
        if (conn->state == ConnState::kSpliced && !input.empty()) {
          // Bytes after Accept belong to the spliced stream.
          ForwardBytes(conn, input);
          input = {};
        }
      }
    }
    if (conn->state == ConnState::kSpliced) {
      Forward(conn);
      return;
    }
    if (conn->state != ConnState::kClosed)
      ArmRead(conn);
  }

  void OnMessage(const ConnPtr& conn, const RelayMessage& message) {
    switch (message.type) {
      case RelayMessageType::kPing: {
        RelayMessage pong;
        pong.type = RelayMessageType::kPong;
        pong.nonce = message.nonce;
        Send(conn, pong);
        return;
      }
      case RelayMessageType::kPong:
        return;
      case RelayMessageType::kRegister:
        if (conn->state == ConnState::kAwaitFirst && VerifyDeviceProof(conn, message))
          return OnRegister(conn);
        break;
      case RelayMessageType::kConnect:
        if (conn->state == ConnState::kAwaitFirst)
          return OnConnect(conn, message.id);
        break;
      case RelayMessageType::kAccept:
        if (conn->state == ConnState::kAwaitFirst && VerifyDeviceProof(conn, message))
          return OnAccept(conn, message.token);
        break;
      default:
        break;
    }
    log::Debug("relay: unexpected message {} closes a connection", static_cast<int>(message.type));
    Destroy(conn);
  }

  // Checks the device key proof of a Register/Accept and sets conn->fingerprint.
  bool VerifyDeviceProof(const ConnPtr& conn, const RelayMessage& message) {
    uint8_t exporter[kChannelBindingBytes];
    if (SSL_export_keying_material(conn->ssl, exporter, sizeof(exporter), kChannelBindingLabel,
                                   sizeof(kChannelBindingLabel) - 1, nullptr, 0, 0) != 1)
      return false;
    const auto* spki = reinterpret_cast<const uint8_t*>(message.device_spki.data());
    const unsigned char* cursor = spki;
    openssl::EvpPkeyPtr device_key(
        d2i_PUBKEY(nullptr, &cursor, static_cast<long>(message.device_spki.size())));
    if (!device_key || EVP_PKEY_base_id(device_key.get()) != EVP_PKEY_ED25519)
      return false;
    const std::vector<uint8_t> bytes = DeviceProofSignedBytes(exporter);
    openssl::EvpMdCtxPtr md(EVP_MD_CTX_new());
    if (!md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, device_key.get()) != 1 ||
        EVP_DigestVerify(md.get(), reinterpret_cast<const uint8_t*>(message.device_proof.data()),
                         message.device_proof.size(), bytes.data(), bytes.size()) != 1) {
      log::Debug("relay: a device proof did not verify");
      return false;
    }
    conn->fingerprint = DeviceIdentity::FingerprintOfSpki({spki, message.device_spki.size()});
    return true;
  }

  bool MakeBinding(const Conn& host, RelayBinding* binding) {
    binding->id = host.id;
    binding->fingerprint = host.fingerprint;
    binding->issued_at_unix_s = host.issued_at_unix_s;
    return key.Sign(binding).ok();
  }

  void OnRegister(const ConnPtr& conn) {
    auto record = store->LookupOrCreate(conn->fingerprint, UnixNow());
    if (!record.ok()) {
      log::Error("relay: {}", record.error().ToString());
      RelayMessage refused;
      refused.type = RelayMessageType::kRefused;
      refused.error_code = static_cast<uint16_t>(ErrorCode::kRelayRegistrationFailed);
      refused.error_message = "the relay cannot register hosts right now";
      if (Send(conn, refused))
        CloseGraceful(conn);
      return;
    }
    // A host that comes back replaces its old (maybe dead) control connection.
    if (auto it = hosts_by_fingerprint.find(conn->fingerprint); it != hosts_by_fingerprint.end()) {
      auto old = conns.find(it->second);
      if (old != conns.end())
        Destroy(ConnPtr(old->second));
    }
    conn->id = record->id;
    conn->issued_at_unix_s = record->issued_at_unix_s;
    conn->state = ConnState::kHostControl;
    hosts_by_id[conn->id] = conn.get();
    hosts_by_fingerprint[conn->fingerprint] = conn.get();
    registered_hosts.store(hosts_by_id.size());
    RelayMessage registered;
    registered.type = RelayMessageType::kRegistered;
    registered.keepalive_interval_ms = static_cast<uint32_t>(options.keepalive_interval_ms);
    if (!MakeBinding(*conn, &registered.binding)) {
      Destroy(conn);
      return;
    }
    // Idle hosts hold no buffers: drop what the handshake grew.
    static_cast<void>(SSL_free_buffers(conn->ssl));
    if (BIO_ctrl_pending(conn->rbio) == 0 && BIO_ctrl_pending(conn->wbio) == 0) {
      conn->rbio = BIO_new(BIO_s_mem());
      conn->wbio = BIO_new(BIO_s_mem());
      BIO_set_mem_eof_return(conn->rbio, -1);
      BIO_set_mem_eof_return(conn->wbio, -1);
      SSL_set_bio(conn->ssl, conn->rbio, conn->wbio);
    }
    Send(conn, registered);
  }

  void OnConnect(const ConnPtr& conn, const std::string& id) {
    conn->state = ConnState::kViewerWaiting;
    const int64_t now = MonotonicNowUs();
    conn->deadline_us = now + int64_t{options.pair_timeout_ms} * 1000;
    // Unknown, offline and rate-limited: one answer, one delay (no ID-existence oracle).
    const bool allowed = IsRelayId(id) && id_limiter.Allow(id, now);
    if (!allowed)
      ++rate_limited;
    auto host = allowed ? hosts_by_id.find(id) : hosts_by_id.end();
    if (host == hosts_by_id.end()) {
      conn->timer = std::make_unique<asio::steady_timer>(
          io, std::chrono::milliseconds(options.refuse_delay_ms));
      conn->timer->async_wait([this, conn](asio::error_code ec) {
        if (!ec && conn->state == ConnState::kViewerWaiting)
          Refuse(conn);
      });
      return;
    }
    uint8_t raw[kRelayTokenBytes];
    RAND_bytes(raw, sizeof(raw));
    conn->token.assign(reinterpret_cast<const char*>(raw), sizeof(raw));
    pending[conn->token] = PendingPair{conn, id};
    RelayMessage incoming;
    incoming.type = RelayMessageType::kIncoming;
    incoming.token = conn->token;
    auto host_conn = conns.find(host->second);
    if (host_conn != conns.end())
      Send(ConnPtr(host_conn->second), incoming);
  }

  void Refuse(const ConnPtr& conn) {
    if (!conn->token.empty())
      pending.erase(conn->token);
    conn->token.clear();
    RelayMessage refused;
    refused.type = RelayMessageType::kRefused;
    refused.error_code = static_cast<uint16_t>(ErrorCode::kPeerUnknownOrOffline);
    refused.error_message = "unknown or offline";
    if (Send(conn, refused))
      CloseGraceful(conn);
  }

  void OnAccept(const ConnPtr& conn, const std::string& token) {
    auto it = pending.find(token);
    if (it == pending.end()) {
      Destroy(conn);
      return;
    }
    ConnPtr viewer = it->second.viewer.lock();
    auto host = hosts_by_id.find(it->second.host_id);
    // Only the registered host itself (same device key) may take its viewer.
    if (!viewer || viewer->state != ConnState::kViewerWaiting || host == hosts_by_id.end() ||
        host->second->fingerprint != conn->fingerprint) {
      pending.erase(it);
      Destroy(conn);
      return;
    }
    pending.erase(it);
    viewer->token.clear();
    RelayMessage paired;
    paired.type = RelayMessageType::kPaired;
    if (!MakeBinding(*host->second, &paired.binding)) {
      Destroy(conn);
      return;
    }
    if (!Send(viewer, paired)) {
      Destroy(conn);
      return;
    }
    conn->state = ConnState::kSpliced;
    viewer->state = ConnState::kSpliced;
    conn->peer = viewer;
    viewer->peer = conn;
    active_pairs += 2;  // One per side: each side's close takes one.
    asio::post(io, [this, viewer] {
      if (viewer->state == ConnState::kSpliced)
        Forward(viewer);
    });
  }

  // --- forwarding ---------------------------------------------------------------------
  void ForwardBytes(const ConnPtr& from, std::span<const uint8_t> bytes) {
    const ConnPtr& to = from->peer;
    if (options.capture_hook)
      options.capture_hook(bytes);
    if (SSL_write(to->ssl, bytes.data(), static_cast<int>(bytes.size())) <= 0) {
      Destroy(from);
      return;
    }
    bytes_forwarded += bytes.size();
  }

  void Forward(const ConnPtr& from) {
    while (from->state == ConnState::kSpliced && from->peer) {
      ConnPtr to = from->peer;
      if (BIO_ctrl_pending(to->wbio) >= options.max_buffered_bytes) {
        from->paused = true;  // Resumed by Flush(to) once it drained.
        Flush(to);
        return;
      }
      const int n = SSL_read(from->ssl, plain_buffer, sizeof(plain_buffer));
      if (n > 0) {
        ForwardBytes(from, {plain_buffer, static_cast<size_t>(n)});
        continue;
      }
      const int err = SSL_get_error(from->ssl, n);
      Flush(to);
      if (err == SSL_ERROR_WANT_READ && !from->input_ended) {
        ArmRead(from);
        return;
      }
      // The client left (close_notify or end of stream) or broke: end the pair.
      Destroy(from);
      return;
    }
  }

  // --- closing ------------------------------------------------------------------------
  void CloseGraceful(const ConnPtr& conn) {
    if (conn->state == ConnState::kClosed || conn->state == ConnState::kClosing)
      return;
    UnlinkRoles(conn);
    conn->state = ConnState::kClosing;
    conn->deadline_us = MonotonicNowUs() + int64_t{kCloseGraceMs} * 1000;
    SSL_shutdown(conn->ssl);
    Flush(conn);
  }

  void UnlinkRoles(const ConnPtr& conn) {
    if (conn->state == ConnState::kHostControl) {
      auto it = hosts_by_id.find(conn->id);
      if (it != hosts_by_id.end() && it->second == conn.get())
        hosts_by_id.erase(it);
      auto fp = hosts_by_fingerprint.find(conn->fingerprint);
      if (fp != hosts_by_fingerprint.end() && fp->second == conn.get())
        hosts_by_fingerprint.erase(fp);
      registered_hosts.store(hosts_by_id.size());
    }
    if (!conn->token.empty()) {
      pending.erase(conn->token);
      conn->token.clear();
    }
    if (conn->state == ConnState::kSpliced)
      --active_pairs;
    if (conn->timer)
      conn->timer->cancel();
  }

  void Destroy(ConnPtr conn) {
    if (conn->state == ConnState::kClosed)
      return;
    UnlinkRoles(conn);
    conn->state = ConnState::kClosed;
    asio::error_code ec;
    conn->socket.close(ec);
    SSL_free(conn->ssl);
    conn->ssl = nullptr;
    conns.erase(conn.get());
    --connections_open;
    if (ConnPtr peer = std::move(conn->peer)) {
      peer->peer.reset();
      if (peer->state == ConnState::kSpliced) {
        --active_pairs;                        // Counted once per side; see UnlinkRoles.
        peer->state = ConnState::kAwaitFirst;  // Neutral role for the graceful close.
      }
      CloseGraceful(peer);
    }
  }

  // --- timers -------------------------------------------------------------------------
  void ScheduleSweep() {
    sweep_timer.expires_after(std::chrono::milliseconds(kSweepIntervalMs));
    sweep_timer.async_wait([this](asio::error_code ec) {
      if (ec || stopped.load())
        return;
      Sweep();
      ScheduleSweep();
    });
  }

  void Sweep() {
    const int64_t now = MonotonicNowUs();
    const int64_t dead_after_us = int64_t{options.keepalive_interval_ms} * 3000;
    std::vector<ConnPtr> expired;
    for (auto& [raw, conn] : conns) {
      switch (conn->state) {
        case ConnState::kHandshake:
        case ConnState::kAwaitFirst:
        case ConnState::kClosing:
          if (now > conn->deadline_us)
            expired.push_back(conn);
          break;
        case ConnState::kViewerWaiting:
          if (now > conn->deadline_us && !conn->token.empty())
            expired.push_back(conn);  // The host never opened its data connection.
          break;
        case ConnState::kHostControl:
          if (now - conn->last_heard_us > dead_after_us)
            expired.push_back(conn);
          break;
        default:
          break;
      }
    }
    for (const ConnPtr& conn : expired) {
      if (conn->state == ConnState::kViewerWaiting)
        Refuse(conn);
      else
        Destroy(conn);
    }
    if (now - last_prune_us > kPruneIntervalUs) {
      source_limiter.Prune(now);
      id_limiter.Prune(now);
      last_prune_us = now;
    }
  }

  // --- metrics endpoint -----------------------------------------------------------------
  void AcceptMetrics() {
    metrics_listener->async_accept([this](asio::error_code ec, tcp::socket socket) {
      if (stopped.load() || ec == asio::error::operation_aborted)
        return;
      if (!ec)
        ServeMetrics(std::make_shared<tcp::socket>(std::move(socket)));
      AcceptMetrics();
    });
  }

  void ServeMetrics(std::shared_ptr<tcp::socket> socket) {
    auto request = std::make_shared<std::string>();
    auto buffer = std::make_shared<std::array<char, 1024>>();
    ReadRequest(socket, request, buffer);
  }

  void ReadRequest(std::shared_ptr<tcp::socket> socket,
                   std::shared_ptr<std::string> request,
                   std::shared_ptr<std::array<char, 1024>> buffer) {
    socket->async_read_some(
        asio::buffer(*buffer), [this, socket, request, buffer](asio::error_code ec, size_t n) {
          if (ec)
            return;
          request->append(buffer->data(), n);
          if (request->find("\r\n\r\n") == std::string::npos && request->size() < 4096) {
            ReadRequest(socket, request, buffer);
            return;
          }
          std::string status = "200 OK";
          std::string body;
          std::string type = "text/plain; charset=utf-8";
          if (request->rfind("GET /metrics", 0) == 0) {
            body = MetricsText();
            type = "text/plain; version=0.0.4; charset=utf-8";
          } else if (request->rfind("GET /healthz", 0) == 0) {
            body = "ok\n";
          } else {
            status = "404 Not Found";
            body = "not found\n";
          }
          auto response =
              std::make_shared<std::string>("HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                                            "\r\nContent-Length: " + std::to_string(body.size()) +
                                            "\r\nConnection: close\r\n\r\n" + body);
          asio::async_write(*socket, asio::buffer(*response),
                            [socket, response](asio::error_code, size_t) {
                              asio::error_code ignored;
                              socket->shutdown(tcp::socket::shutdown_both, ignored);
                              socket->close(ignored);
                            });
        });
  }

  std::string MetricsText() const {
    std::string text;
    auto metric = [&](const char* name, const char* type, const char* help, uint64_t value) {
      text += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
              name + " " + std::to_string(value) + "\n";
    };
    metric("lifeline_relay_registered_hosts", "gauge", "Hosts with a live control connection.",
           registered_hosts.load());
    metric("lifeline_relay_active_pairs", "gauge", "Viewer-host pairs being forwarded.",
           active_pairs.load() / 2);
    metric("lifeline_relay_bytes_forwarded_total", "counter",
           "Bytes forwarded between paired clients.", bytes_forwarded.load());
    metric("lifeline_relay_rate_limited_total", "counter",
           "Connections and requests refused by a rate limit.", rate_limited.load());
    metric("lifeline_relay_connections", "gauge", "Open client connections.",
           connections_open.load());
    metric("lifeline_relay_connections_total", "counter", "Client connections accepted.",
           connections_total.load());
    return text;
  }

  void Shutdown() {
    asio::error_code ec;
    for (auto* acceptor : {listener.get(), fallback.get(), metrics_listener.get()})
      if (acceptor)
        acceptor->close(ec);
    sweep_timer.cancel();
    std::vector<ConnPtr> all;
    for (auto& [raw, conn] : conns)
      all.push_back(conn);
    for (auto& conn : all)
      Destroy(conn);
  }
};

RelayServer::RelayServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RelayServer::~RelayServer() {
  Stop();
}

Expected<std::unique_ptr<RelayServer>> RelayServer::Create(RelayServerOptions options,
                                                           RelayKey key,
                                                           std::unique_ptr<IdStore> store) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(key), std::move(store));
  if (Status st = impl->Init(); !st.ok())
    return st.error();
  impl->StartServing();
  return std::unique_ptr<RelayServer>(new RelayServer(std::move(impl)));
}

HostPort RelayServer::listen_address() const {
  return ToHostPort(impl_->listener);
}
HostPort RelayServer::fallback_address() const {
  return ToHostPort(impl_->fallback);
}
HostPort RelayServer::metrics_address() const {
  return ToHostPort(impl_->metrics_listener);
}
const std::string& RelayServer::pin() const {
  return impl_->key.pin();
}

void RelayServer::Run() {
  impl_->running.store(true);
  if (!impl_->stopped.load())
    impl_->io.run();
}

void RelayServer::Start() {
  if (impl_->thread.joinable())
    return;
  impl_->running.store(true);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void RelayServer::Stop() {
  if (impl_->stopped.exchange(true)) {
    if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id())
      impl_->thread.join();
    return;
  }
  if (!impl_->running.load()) {
    impl_->Shutdown();  // Nobody serves: no I/O thread to hand this to.
    return;
  }
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->Shutdown();
    impl->io.stop();
  });
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id())
    impl_->thread.join();
}

RelayMetrics RelayServer::metrics() const {
  RelayMetrics m;
  m.registered_hosts = impl_->registered_hosts.load();
  m.active_pairs = impl_->active_pairs.load() / 2;
  m.bytes_forwarded = impl_->bytes_forwarded.load();
  m.rate_limited = impl_->rate_limited.load();
  m.connections_open = impl_->connections_open.load();
  m.connections_total = impl_->connections_total.load();
  return m;
}

std::string RelayServer::MetricsText() const {
  return impl_->MetricsText();
}

}  // namespace lifeline
