#include "net/tls/tls_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/time.h"
#include "net/message_channel.h"
#include "net/tcp.h"
#include "net/testing/transport_pair.h"
#include "net/tls/device_identity.h"
#include "net/openssl_handles.h"
#include "tests/net/net_test_util.h"

namespace lifeline {
namespace {

using Bytes = std::vector<uint8_t>;
using test::MsUntil;
using openssl::SslCtxPtr;
using openssl::SslPtr;
using openssl::SslSessionPtr;

// Generous: a loaded 2-core CI machine under ASan.
constexpr int kWaitMs = 30'000;

using HandshakeResult = Expected<std::unique_ptr<TlsTransport>>;

DeviceIdentity MakeIdentity() {
  auto identity = DeviceIdentity::CreateEphemeral();
  if (!identity.ok())
    std::abort();
  return std::move(identity).value();
}

const DeviceIdentity& ClientIdentity() {
  static const DeviceIdentity identity = MakeIdentity();
  return identity;
}

const DeviceIdentity& ServerIdentity() {
  static const DeviceIdentity identity = MakeIdentity();
  return identity;
}

Bytes MakeData(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes data(size);
  for (auto& byte : data)
    byte = static_cast<uint8_t>(rng());
  return data;
}

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

struct TlsPair {
  std::unique_ptr<TlsTransport> client;
  std::unique_ptr<TlsTransport> server;
};

// Runs both handshakes in this thread, step by step; `pump` (a relay between the two
// inner transports) runs every round.
TlsPair HandshakeLockstep(std::unique_ptr<Transport> client_inner,
                          std::unique_ptr<Transport> server_inner,
                          const std::function<void()>& pump = {}) {
  auto client = TlsTransport::Create(std::move(client_inner), TlsRole::kClient, ClientIdentity());
  auto server = TlsTransport::Create(std::move(server_inner), TlsRole::kServer, ServerIdentity());
  REQUIRE(client.ok());
  REQUIRE(server.ok());
  TlsPair pair{std::move(client).value(), std::move(server).value()};
  const int64_t deadline = MonotonicNowUs() + int64_t{kWaitMs} * 1000;
  bool client_done = false;
  bool server_done = false;
  while (!client_done || !server_done) {
    for (auto [transport, done] :
         {std::pair{pair.client.get(), &client_done}, std::pair{pair.server.get(), &server_done}}) {
      if (*done)
        continue;
      const IoResult result = transport->ContinueHandshake();
      INFO(result.error.ToString());
      REQUIRE(result.status != IoStatus::kError);
      *done = result.status == IoStatus::kOk;
    }
    if (pump)
      pump();
    REQUIRE(MsUntil(deadline) > 0);
    if (!client_done || !server_done) {
      pollfd fds[2] = {{pair.client->fd(), pair.client->PollEvents(false), 0},
                       {pair.server->fd(), pair.server->PollEvents(false), 0}};
      poll(fds, 2, pump ? 5 : 100);
    }
  }
  CHECK(pair.client->handshake_done());
  CHECK(pair.server->handshake_done());
  return pair;
}

// Handshakes over real TCP on loopback: the server side in a thread, each with
// TlsHandshake().
TlsPair HandshakeOverTcp() {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  std::optional<HandshakeResult> server_result;
  std::thread server_thread([&] {
    auto accepted = (*listener)->Accept(kWaitMs);
    if (!accepted.ok()) {
      server_result = accepted.error();
      return;
    }
    server_result =
        TlsHandshake(std::move(accepted).value(), TlsRole::kServer, ServerIdentity(), kWaitMs);
  });
  auto connected = ConnectTcp((*listener)->local_address(), kWaitMs);
  std::optional<HandshakeResult> client_result;
  if (connected.ok()) {
    client_result =
        TlsHandshake(std::move(connected).value(), TlsRole::kClient, ClientIdentity(), kWaitMs);
  }
  server_thread.join();
  REQUIRE(connected.ok());
  REQUIRE(client_result.has_value());
  REQUIRE(server_result.has_value());
  INFO((client_result->ok() ? "" : client_result->error().ToString()));
  REQUIRE(client_result->ok());
  INFO((server_result->ok() ? "" : server_result->error().ToString()));
  REQUIRE(server_result->ok());
  return TlsPair{std::move(*client_result).value(), std::move(*server_result).value()};
}

void CheckSession(const TlsPair& pair) {
  CHECK(pair.client->protocol_version() == "TLSv1.3");
  CHECK(pair.server->protocol_version() == "TLSv1.3");
  CHECK_FALSE(pair.client->cipher().empty());
  CHECK(pair.client->cipher() == pair.server->cipher());
  CHECK(pair.client->channel_binding() == pair.server->channel_binding());
  CHECK(pair.client->channel_binding().size() == 32);
  CHECK(pair.client->channel_binding() != std::array<uint8_t, kChannelBindingBytes>{});
  CHECK(pair.client->peer_fingerprint() == ServerIdentity().fingerprint());
  CHECK(pair.server->peer_fingerprint() == ClientIdentity().fingerprint());
}

// One side of a single-threaded, non-blocking exchange.
struct Endpoint {
  Transport* transport = nullptr;
  Bytes out;
  size_t sent = 0;
  Bytes in;
  size_t expected = 0;
};

// Writes (in pieces of varying size) and reads until kWouldBlock. True on progress.
bool Step(Endpoint& endpoint, std::mt19937& rng) {
  bool progress = false;
  while (endpoint.sent < endpoint.out.size()) {
    const size_t piece = std::min<size_t>(endpoint.out.size() - endpoint.sent, 1 + rng() % 100'000);
    const IoResult result = endpoint.transport->Write(
        std::span<const uint8_t>(endpoint.out).subspan(endpoint.sent, piece));
    if (result.status == IoStatus::kWouldBlock)
      break;
    INFO(result.error.ToString());
    REQUIRE(result.status == IoStatus::kOk);
    REQUIRE(result.bytes > 0);
    REQUIRE(result.bytes <= piece);
    endpoint.sent += result.bytes;
    progress = true;
  }
  Bytes buffer(1 + rng() % 70'000);
  while (true) {
    const IoResult result = endpoint.transport->Read(buffer);
    if (result.status == IoStatus::kWouldBlock)
      break;
    INFO(result.error.ToString());
    REQUIRE(result.status == IoStatus::kOk);
    REQUIRE(result.bytes > 0);
    endpoint.in.insert(endpoint.in.end(), buffer.begin(), buffer.begin() + result.bytes);
    REQUIRE(endpoint.in.size() <= endpoint.expected);
    progress = true;
  }
  return progress;
}

// Sends a.out to b and b.out to a at the same time, in this thread.
void Exchange(Endpoint& a, Endpoint& b) {
  a.expected = b.out.size();
  b.expected = a.out.size();
  std::mt19937 rng(7);
  const int64_t deadline = MonotonicNowUs() + int64_t{kWaitMs} * 1000;
  auto done = [](const Endpoint& e) { return e.sent == e.out.size() && e.in.size() == e.expected; };
  while (!done(a) || !done(b)) {
    const bool progress_a = Step(a, rng);
    const bool progress_b = Step(b, rng);
    REQUIRE(MsUntil(deadline) > 0);
    if (!progress_a && !progress_b) {
      pollfd fds[2] = {{a.transport->fd(), a.transport->PollEvents(a.sent < a.out.size()), 0},
                       {b.transport->fd(), b.transport->PollEvents(b.sent < b.out.size()), 0}};
      poll(fds, 2, 100);
    }
  }
  CHECK((a.in == b.out));  // Not decomposed: no 5 MB dump on failure.
  CHECK((b.in == a.out));
}

// Writes all of `data`, polling with PollEvents(true) when blocked.
bool WriteAll(Transport& transport, std::span<const uint8_t> data) {
  const int64_t deadline = MonotonicNowUs() + int64_t{kWaitMs} * 1000;
  while (!data.empty()) {
    const IoResult result = transport.Write(data);
    if (result.status == IoStatus::kOk) {
      data = data.subspan(result.bytes);
      continue;
    }
    if (result.status != IoStatus::kWouldBlock || MsUntil(deadline) == 0)
      return false;
    pollfd fd{transport.fd(), transport.PollEvents(true), 0};
    poll(&fd, 1, 100);
  }
  return true;
}

// Reads until `size` bytes arrived or the stream ended or failed; `end` receives the last
// non-kOk result (status kOk if `size` bytes arrived).
Bytes ReadUpTo(Transport& transport, size_t size, IoResult* end = nullptr) {
  const int64_t deadline = MonotonicNowUs() + int64_t{kWaitMs} * 1000;
  Bytes received;
  Bytes buffer(64 * 1024);
  IoResult last{IoStatus::kOk, 0, {}};
  while (received.size() < size) {
    const IoResult result = transport.Read(
        std::span<uint8_t>(buffer).first(std::min(buffer.size(), size - received.size())));
    if (result.status == IoStatus::kOk) {
      received.insert(received.end(), buffer.begin(), buffer.begin() + result.bytes);
      continue;
    }
    if (result.status != IoStatus::kWouldBlock || MsUntil(deadline) == 0) {
      last = result;
      break;
    }
    pollfd fd{transport.fd(), transport.PollEvents(false), 0};
    poll(&fd, 1, 100);
  }
  if (end != nullptr)
    *end = last;
  return received;
}

// Copies bytes between two transports, like a relay; can stop forwarding toward the server
// after a number of bytes and then cut the server's connection.
class Relay {
 public:
  Relay(std::unique_ptr<Transport> client_side, std::unique_ptr<Transport> server_side)
      : client_side_(std::move(client_side)), server_side_(std::move(server_side)) {}

  // Moves what is available both ways (never more than the limit toward the server).
  void Pump() {
    if (!server_side_)
      return;
    Move(*client_side_, *server_side_, limit_ - forwarded_, &forwarded_);
    size_t ignored = 0;
    Move(*server_side_, *client_side_, SIZE_MAX, &ignored);
  }
  // Pumps until nothing moved for a while.
  void PumpUntilQuiet() {
    for (int quiet_rounds = 0; quiet_rounds < 20;) {
      const size_t before = forwarded_;
      Pump();
      quiet_rounds = forwarded_ == before ? quiet_rounds + 1 : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  void set_limit(size_t total_bytes) { limit_ = total_bytes; }
  size_t forwarded() const { return forwarded_; }
  // The server sees end of stream (no close_notify unless the client sent one).
  void CutServerSide() { server_side_.reset(); }
  bool client_closed() const { return client_closed_; }

 private:
  void Move(Transport& from, Transport& to, size_t budget, size_t* counter) {
    uint8_t buffer[16 * 1024];
    while (budget > 0) {
      const IoResult result =
          from.Read(std::span<uint8_t>(buffer, std::min(sizeof(buffer), budget)));
      if (result.status == IoStatus::kClosed && &from == client_side_.get())
        client_closed_ = true;
      if (result.status != IoStatus::kOk)
        return;
      REQUIRE(WriteAll(to, std::span<const uint8_t>(buffer, result.bytes)));
      budget -= result.bytes;
      *counter += result.bytes;
    }
  }

  std::unique_ptr<Transport> client_side_;
  std::unique_ptr<Transport> server_side_;
  size_t limit_ = SIZE_MAX;
  size_t forwarded_ = 0;
  bool client_closed_ = false;
};

// Runs an OpenSSL call on a non-blocking socket until it no longer wants I/O; returns its
// last result (> 0: success). The error queue keeps the failure's reason.
int DriveSsl(SSL* ssl, const std::function<int()>& call) {
  const int64_t deadline = MonotonicNowUs() + int64_t{kWaitMs} * 1000;
  while (true) {
    ERR_clear_error();
    const int rc = call();
    if (rc > 0)
      return rc;
    const int error = SSL_get_error(ssl, rc);
    short events = 0;
    if (error == SSL_ERROR_WANT_READ)
      events = POLLIN;
    if (error == SSL_ERROR_WANT_WRITE)
      events = POLLOUT;
    if (events == 0 || MsUntil(deadline) == 0)
      return rc;
    pollfd fd{SSL_get_fd(ssl), events, 0};
    poll(&fd, 1, 100);
  }
}

// A plain OpenSSL context for hand-made peers (no settings of ours).
SslCtxPtr RawContext(bool server, int max_version, const DeviceIdentity* identity) {
  SslCtxPtr context(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  REQUIRE(context);
  if (max_version != 0)
    REQUIRE(SSL_CTX_set_max_proto_version(context.get(), max_version) == 1);
  if (identity != nullptr) {
    REQUIRE(SSL_CTX_use_certificate(context.get(), identity->certificate()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(context.get(), identity->private_key()) == 1);
  }
  return context;
}

std::string ErrorReason(unsigned long error) {
  const char* reason = ERR_reason_error_string(error);
  return reason != nullptr ? reason : "";
}

TEST_CASE("TLS handshake over TCP loopback", "[tls]") {
  TlsPair first = HandshakeOverTcp();
  CheckSession(first);
  TlsPair second = HandshakeOverTcp();
  CheckSession(second);
  // Every session has its own exporter.
  CHECK(first.client->channel_binding() != second.client->channel_binding());

  Endpoint client{first.client.get(), MakeData(1 << 20, 1)};
  Endpoint server{first.server.get(), MakeData(1 << 20, 2)};
  Exchange(client, server);
}

TEST_CASE("TLS handshake over a transport pair", "[tls]") {
  auto [a, b] = CreateTransportPair();
  TlsPair first = HandshakeLockstep(std::move(a), std::move(b));
  CheckSession(first);
  auto [c, d] = CreateTransportPair();
  TlsPair second = HandshakeLockstep(std::move(c), std::move(d));
  CHECK(first.server->channel_binding() != second.server->channel_binding());

  const std::string hello = "hello over TLS";
  REQUIRE(WriteAll(*first.client, AsBytes(hello)));
  CHECK(ReadUpTo(*first.server, hello.size()) == Bytes(hello.begin(), hello.end()));
  REQUIRE(WriteAll(*first.server, AsBytes("and back")));
  CHECK(ReadUpTo(*first.client, 8) == Bytes{'a', 'n', 'd', ' ', 'b', 'a', 'c', 'k'});
}

TEST_CASE("TLS carries 5 MB each way through small buffers and partial transfers", "[tls]") {
  TransportPairOptions pair_options;
  pair_options.socket_buffer_bytes = 16 * 1024;
  auto [a, b] = CreateTransportPair(pair_options);
  FaultOptions client_faults;
  client_faults.max_write_bytes = 1000;
  client_faults.max_read_bytes = 777;
  FaultOptions server_faults;
  server_faults.max_write_bytes = 333;
  server_faults.max_read_bytes = 5000;
  auto client_inner = std::make_unique<FaultyTransport>(std::move(a), client_faults);
  auto server_inner = std::make_unique<FaultyTransport>(std::move(b), server_faults);
  FaultyTransport* client_faulty = client_inner.get();
  TlsPair pair = HandshakeLockstep(std::move(client_inner), std::move(server_inner));
  CheckSession(pair);

  Endpoint client{pair.client.get(), MakeData(5 << 20, 3)};
  Endpoint server{pair.server.get(), MakeData(5 << 20, 4)};
  Exchange(client, server);
  // The ciphertext went through in pieces of at most 1000 bytes.
  CHECK(client_faulty->write_calls() > (5u << 20) / 1000);
}

TEST_CASE("PollEvents pushes on ciphertext that Write has already accepted", "[tls]") {
  TransportPairOptions pair_options;
  pair_options.socket_buffer_bytes = 4096;
  auto [a, b] = CreateTransportPair(pair_options);
  TlsPair pair = HandshakeLockstep(std::move(a), std::move(b));

  // Nobody reads yet: Write takes plaintext until its ciphertext buffer is full, far more
  // than the socket holds.
  const Bytes data = MakeData(300'000, 5);
  size_t accepted = 0;
  while (accepted < data.size()) {
    const IoResult result = pair.client->Write(std::span<const uint8_t>(data).subspan(accepted));
    if (result.status != IoStatus::kOk)
      break;
    accepted += result.bytes;
  }
  REQUIRE(accepted > 16 * 1024);
  CHECK((pair.client->PollEvents(false) & POLLOUT) != 0);

  // Now the server reads, and the client only polls: no more Write() calls.
  Bytes received;
  IoResult end;
  std::thread reader([&] { received = ReadUpTo(*pair.server, accepted, &end); });
  const int64_t deadline = MonotonicNowUs() + int64_t{kWaitMs} * 1000;
  while (MsUntil(deadline) > 0) {
    const short events = pair.client->PollEvents(false);
    if ((events & POLLOUT) == 0)
      break;  // Nothing waits any more.
    pollfd fd{pair.client->fd(), events, 0};
    poll(&fd, 1, 100);
  }
  reader.join();
  INFO(end.error.ToString());
  REQUIRE(received.size() == accepted);
  CHECK((received == Bytes(data.begin(), data.begin() + static_cast<long>(accepted))));
}

TEST_CASE("HasBufferedInput tells what Read holds beyond the fd", "[tls]") {
  auto [a, b] = CreateTransportPair();
  TlsPair pair = HandshakeLockstep(std::move(a), std::move(b));
  const Bytes message = MakeData(3000, 9);
  REQUIRE(WriteAll(*pair.client, message));
  CHECK(ReadUpTo(*pair.server, 1) == Bytes{message[0]});
  // The rest of the record is decrypted and waiting: the fd may never become readable.
  CHECK(pair.server->HasBufferedInput());
  Bytes rest(4096);
  const IoResult result = pair.server->Read(rest);
  REQUIRE(result.status == IoStatus::kOk);
  CHECK(result.bytes == message.size() - 1);
  CHECK(pair.server->Read(rest).status == IoStatus::kWouldBlock);
  CHECK_FALSE(pair.server->HasBufferedInput());
}

TEST_CASE("TLS close_notify then end of stream is kClosed", "[tls]") {
  auto [client_end, relay_client] = CreateTransportPair();
  auto [relay_server, server_end] = CreateTransportPair();
  Relay relay(std::move(relay_client), std::move(relay_server));
  TlsPair pair =
      HandshakeLockstep(std::move(client_end), std::move(server_end), [&] { relay.Pump(); });
  const Bytes message = MakeData(10'000, 6);
  REQUIRE(WriteAll(*pair.client, message));
  pair.client->Shutdown();  // close_notify, then the socket is shut.
  relay.PumpUntilQuiet();
  CHECK(relay.client_closed());
  relay.CutServerSide();

  IoResult end;
  CHECK((ReadUpTo(*pair.server, message.size() + 1, &end) == message));
  CHECK(end.status == IoStatus::kClosed);
  // Stays closed.
  uint8_t byte = 0;
  CHECK(pair.server->Read(std::span<uint8_t>(&byte, 1)).status == IoStatus::kClosed);
  // Locally shut down: reads and writes fail.
  const IoResult after = pair.client->Write(AsBytes("x"));
  CHECK(after.status == IoStatus::kError);
  CHECK(after.error.code == ErrorCode::kConnectionClosed);
}

TEST_CASE("A truncated TLS stream is an error, not a clean end", "[tls]") {
  auto [client_end, relay_client] = CreateTransportPair();
  auto [relay_server, server_end] = CreateTransportPair();
  Relay relay(std::move(relay_client), std::move(relay_server));
  TlsPair pair =
      HandshakeLockstep(std::move(client_end), std::move(server_end), [&] { relay.Pump(); });
  relay.PumpUntilQuiet();
  const size_t after_handshake = relay.forwarded();
  const Bytes message = MakeData(10'000, 7);
  REQUIRE(WriteAll(*pair.client, message));

  IoResult end;
  Bytes received;
  SECTION("cut in the middle of a record") {
    relay.set_limit(after_handshake + 5 + 100);
    relay.PumpUntilQuiet();
    REQUIRE(relay.forwarded() == after_handshake + 105);
    relay.CutServerSide();
    received = ReadUpTo(*pair.server, message.size() + 1, &end);
    CHECK(received.empty());
  }
  SECTION("cut between records") {
    relay.PumpUntilQuiet();
    CHECK((ReadUpTo(*pair.server, message.size()) == message));
    relay.CutServerSide();
    received = ReadUpTo(*pair.server, 1, &end);
    CHECK(received.empty());
  }
  INFO(end.error.ToString());
  CHECK(end.status == IoStatus::kError);
  CHECK(end.error.code == ErrorCode::kTlsTruncated);
  CHECK(end.error.message.find("test peer A") != std::string::npos);
  CHECK(end.error.message.find("close_notify") != std::string::npos);
  // Sticky.
  uint8_t byte = 0;
  CHECK(pair.server->Read(std::span<uint8_t>(&byte, 1)).error.code == ErrorCode::kTlsTruncated);
}

TEST_CASE("A TLS 1.2-only client is refused with a clear error", "[tls]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  std::optional<HandshakeResult> server_result;
  std::thread server_thread([&] {
    auto accepted = (*listener)->Accept(kWaitMs);
    server_result = accepted.ok() ? TlsHandshake(std::move(accepted).value(), TlsRole::kServer,
                                                 ServerIdentity(), kWaitMs)
                                  : HandshakeResult(accepted.error());
  });
  auto connected = ConnectTcp((*listener)->local_address(), kWaitMs);
  REQUIRE(connected.ok());
  SslCtxPtr context = RawContext(/*server=*/false, TLS1_2_VERSION, nullptr);
  SslPtr ssl(SSL_new(context.get()));
  REQUIRE(SSL_set_fd(ssl.get(), (*connected)->fd()) == 1);
  const int rc = DriveSsl(ssl.get(), [&] { return SSL_connect(ssl.get()); });
  const unsigned long client_error = ERR_peek_error();
  server_thread.join();

  CHECK(rc <= 0);
  // The client was told why (our server flushed its protocol_version alert).
  CHECK(ErrorReason(client_error) == "tlsv1 alert protocol version");
  REQUIRE(server_result.has_value());
  REQUIRE_FALSE(server_result->ok());
  const Error& error = server_result->error();
  INFO(error.ToString());
  CHECK(error.code == ErrorCode::kTlsProtocolTooOld);
  CHECK(error.message.find("TLS handshake with 127.0.0.1:") == 0);
  CHECK(error.message.find("unsupported protocol") != std::string::npos);
}

TEST_CASE("Our client refuses a TLS 1.2-only server", "[tls]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  std::thread server_thread([&] {
    auto accepted = (*listener)->Accept(kWaitMs);
    if (!accepted.ok())
      return;
    SslCtxPtr context = RawContext(/*server=*/true, TLS1_2_VERSION, &ServerIdentity());
    SslPtr ssl(SSL_new(context.get()));
    SSL_set_fd(ssl.get(), (*accepted)->fd());
    DriveSsl(ssl.get(), [&] { return SSL_accept(ssl.get()); });
  });
  auto connected = ConnectTcp((*listener)->local_address(), kWaitMs);
  REQUIRE(connected.ok());
  auto result =
      TlsHandshake(std::move(connected).value(), TlsRole::kClient, ClientIdentity(), kWaitMs);
  server_thread.join();
  REQUIRE_FALSE(result.ok());
  INFO(result.error().ToString());
  CHECK(result.error().code == ErrorCode::kTlsProtocolTooOld);
  CHECK(result.error().message.find("TLS handshake with 127.0.0.1:") == 0);
}

// A TLS 1.3 client made by hand: counts the session tickets it receives, and reports
// whether its session could be resumed.
struct TicketProbe {
  int tickets = 0;
  bool resumable = true;
  bool has_ticket = true;
  std::array<uint8_t, kChannelBindingBytes> channel_binding{};
  bool ok = false;
};

int CountTicket(SSL* ssl, SSL_SESSION* /*session*/) {
  ++*static_cast<int*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  return 0;  // We keep no reference.
}

TicketProbe ProbeTickets(int fd) {
  TicketProbe probe;
  SslCtxPtr context = RawContext(/*server=*/false, 0, &ClientIdentity());
  REQUIRE(SSL_CTX_set_min_proto_version(context.get(), TLS1_3_VERSION) == 1);
  SSL_CTX_set_session_cache_mode(context.get(),
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_set_app_data(context.get(), &probe.tickets);
  SSL_CTX_sess_set_new_cb(context.get(), CountTicket);
  SslPtr ssl(SSL_new(context.get()));
  REQUIRE(SSL_set_fd(ssl.get(), fd) == 1);
  if (DriveSsl(ssl.get(), [&] { return SSL_connect(ssl.get()); }) <= 0)
    return probe;
  // Tickets arrive after the handshake, before the server's first data.
  char ping[4];
  size_t read_bytes = 0;
  if (DriveSsl(ssl.get(),
               [&] { return SSL_read_ex(ssl.get(), ping, sizeof(ping), &read_bytes); }) <= 0 ||
      std::string(ping, read_bytes) != "ping") {
    return probe;
  }
  size_t written = 0;
  if (DriveSsl(ssl.get(), [&] { return SSL_write_ex(ssl.get(), "pong", 4, &written); }) <= 0)
    return probe;
  SslSessionPtr session(SSL_get1_session(ssl.get()));
  REQUIRE(session);
  probe.resumable = SSL_SESSION_is_resumable(session.get()) == 1;
  probe.has_ticket = SSL_SESSION_has_ticket(session.get()) == 1;
  REQUIRE(SSL_export_keying_material(ssl.get(), probe.channel_binding.data(),
                                     probe.channel_binding.size(), kChannelBindingLabel,
                                     std::strlen(kChannelBindingLabel), nullptr, 0, 0) == 1);
  probe.ok = true;
  return probe;
}

TEST_CASE("The TLS server issues no session ticket", "[tls]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());

  SECTION("our server") {
    std::optional<HandshakeResult> server_result;
    Bytes pong;
    std::thread server_thread([&] {
      auto accepted = (*listener)->Accept(kWaitMs);
      if (!accepted.ok())
        return;
      server_result =
          TlsHandshake(std::move(accepted).value(), TlsRole::kServer, ServerIdentity(), kWaitMs);
      if (server_result->ok() && WriteAll(***server_result, AsBytes("ping")))
        pong = ReadUpTo(***server_result, 4);
    });
    auto connected = ConnectTcp((*listener)->local_address(), kWaitMs);
    REQUIRE(connected.ok());
    const TicketProbe probe = ProbeTickets((*connected)->fd());
    server_thread.join();
    REQUIRE(server_result.has_value());
    INFO((server_result->ok() ? "" : server_result->error().ToString()));
    REQUIRE(server_result->ok());
    REQUIRE(probe.ok);
    CHECK(pong == Bytes{'p', 'o', 'n', 'g'});
    CHECK(probe.tickets == 0);
    CHECK_FALSE(probe.resumable);
    CHECK_FALSE(probe.has_ticket);
    // A plain OpenSSL client computes the same RFC 9266 exporter.
    CHECK(probe.channel_binding == (**server_result)->channel_binding());
    CHECK((**server_result)->peer_fingerprint() == ClientIdentity().fingerprint());
  }
  SECTION("control: a default OpenSSL server does issue tickets") {
    std::thread server_thread([&] {
      auto accepted = (*listener)->Accept(kWaitMs);
      if (!accepted.ok())
        return;
      SslCtxPtr context = RawContext(/*server=*/true, 0, &ServerIdentity());
      SslPtr ssl(SSL_new(context.get()));
      SSL_set_fd(ssl.get(), (*accepted)->fd());
      if (DriveSsl(ssl.get(), [&] { return SSL_accept(ssl.get()); }) <= 0)
        return;
      size_t done = 0;
      DriveSsl(ssl.get(), [&] { return SSL_write_ex(ssl.get(), "ping", 4, &done); });
      char pong[4];
      DriveSsl(ssl.get(), [&] { return SSL_read_ex(ssl.get(), pong, sizeof(pong), &done); });
    });
    auto connected = ConnectTcp((*listener)->local_address(), kWaitMs);
    REQUIRE(connected.ok());
    const TicketProbe probe = ProbeTickets((*connected)->fd());
    server_thread.join();
    REQUIRE(probe.ok);
    CHECK(probe.tickets > 0);
    CHECK(probe.resumable);
  }
}

TEST_CASE("The TLS server requires a client certificate", "[tls]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  std::optional<HandshakeResult> server_result;
  std::thread server_thread([&] {
    auto accepted = (*listener)->Accept(kWaitMs);
    server_result = accepted.ok() ? TlsHandshake(std::move(accepted).value(), TlsRole::kServer,
                                                 ServerIdentity(), kWaitMs)
                                  : HandshakeResult(accepted.error());
  });
  auto connected = ConnectTcp((*listener)->local_address(), kWaitMs);
  REQUIRE(connected.ok());
  SslCtxPtr context = RawContext(/*server=*/false, 0, nullptr);  // No certificate.
  REQUIRE(SSL_CTX_set_min_proto_version(context.get(), TLS1_3_VERSION) == 1);
  SslPtr ssl(SSL_new(context.get()));
  REQUIRE(SSL_set_fd(ssl.get(), (*connected)->fd()) == 1);
  DriveSsl(ssl.get(), [&] { return SSL_connect(ssl.get()); });
  server_thread.join();
  REQUIRE(server_result.has_value());
  REQUIRE_FALSE(server_result->ok());
  INFO(server_result->error().ToString());
  CHECK(server_result->error().code == ErrorCode::kTlsHandshakeFailed);
  CHECK(server_result->error().message.find("certificate") != std::string::npos);
}

TEST_CASE("Garbage instead of a TLS handshake is a clean error", "[tls]") {
  const Bytes plain_hello = test::Encode(test::MakeHello(kMinProtocolVersion, kProtocolVersion));
  const std::vector<std::pair<std::string, Bytes>> inputs = {
      {"HTTP",
       [] {
         const std::string request = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
         return Bytes(request.begin(), request.end());
       }()},
      {"random bytes", MakeData(64, 8)},
      {"a plain Lifeline Hello", plain_hello},
      {"a record header announcing 64 KiB", Bytes{0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3}},
  };
  for (const TlsRole role : {TlsRole::kServer, TlsRole::kClient}) {
    for (const auto& [name, bytes] : inputs) {
      INFO(name << (role == TlsRole::kServer ? " to the server" : " to the client"));
      auto [a, b] = CreateTransportPair();
      REQUIRE(WriteAll(*a, bytes));
      const int64_t start = MonotonicNowUs();
      auto result =
          TlsHandshake(std::move(b), role,
                       role == TlsRole::kServer ? ServerIdentity() : ClientIdentity(), kWaitMs);
      REQUIRE_FALSE(result.ok());
      INFO(result.error().ToString());
      CHECK(result.error().code == ErrorCode::kTlsHandshakeFailed);
      CHECK(result.error().message.find("TLS handshake with test peer A failed: ") == 0);
      if (name != "random bytes")
        CHECK(result.error().message.find("does not seem to speak TLS") != std::string::npos);
      CHECK(MonotonicNowUs() - start < 5'000'000);  // Fails at once, no timeout.
    }
  }
}

TEST_CASE("A peer that closes during the TLS handshake is a clean error", "[tls]") {
  auto [a, b] = CreateTransportPair();
  SECTION("before saying anything") {}
  SECTION("in the middle of a record") {
    REQUIRE(WriteAll(*a, Bytes{0x16, 0x03, 0x01, 0x00, 0x40, 1}));
  }
  a->Shutdown();
  auto result = TlsHandshake(std::move(b), TlsRole::kServer, ServerIdentity(), kWaitMs);
  REQUIRE_FALSE(result.ok());
  INFO(result.error().ToString());
  CHECK(result.error().code == ErrorCode::kTlsHandshakeFailed);
  CHECK(result.error().message.find("TLS handshake with test peer A failed: the peer closed the "
                                    "connection") == 0);
}

TEST_CASE("TLS handshake times out when the peer says nothing", "[tls]") {
  auto [a, b] = CreateTransportPair();
  const int64_t start = MonotonicNowUs();
  auto result = TlsHandshake(std::move(b), TlsRole::kServer, ServerIdentity(), 300);
  const int64_t elapsed_ms = (MonotonicNowUs() - start) / 1000;
  REQUIRE_FALSE(result.ok());
  INFO(result.error().ToString());
  CHECK(result.error().code == ErrorCode::kConnectionTimedOut);
  CHECK(result.error().message == "TLS handshake with test peer A did not finish within 300 ms");
  CHECK(elapsed_ms >= 295);
  CHECK(elapsed_ms < 10'000);
}

TEST_CASE("TLS handshake can be cancelled", "[tls]") {
  auto [a, b] = CreateTransportPair();
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  auto result = TlsHandshake(std::move(a), TlsRole::kClient, ClientIdentity(), -1, &cancel);
  canceller.join();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kCancelled);
  CHECK(result.error().message.find("test peer B") != std::string::npos);
}

TEST_CASE("TLS Read and Write before the handshake fail", "[tls]") {
  auto [a, b] = CreateTransportPair();
  auto transport = TlsTransport::Create(std::move(a), TlsRole::kClient, ClientIdentity());
  REQUIRE(transport.ok());
  uint8_t byte = 0;
  CHECK((*transport)->Read(std::span<uint8_t>(&byte, 1)).error.code == ErrorCode::kInternal);
  CHECK((*transport)->Write(AsBytes("x")).error.code == ErrorCode::kInternal);
  CHECK_FALSE((*transport)->handshake_done());
  CHECK((*transport)->peer_fingerprint().empty());
}

TEST_CASE("A MessageChannel runs over TLS and closes cleanly", "[tls]") {
  auto [a, b] = CreateTransportPair();
  TlsPair pair = HandshakeLockstep(std::move(a), std::move(b));
  test::RecordingDelegate client_delegate;
  test::RecordingDelegate server_delegate;
  ChannelOptions options;
  options.hello.set_app_version("test");
  MessageChannel client(std::move(pair.client), options, &client_delegate);
  MessageChannel server(std::move(pair.server), options, &server_delegate);
  client.Start();
  server.Start();
  REQUIRE(client_delegate.WaitConnected(kWaitMs));
  REQUIRE(server_delegate.WaitConnected(kWaitMs));
  constexpr int kPings = 200;
  for (int i = 0; i < kPings; ++i)
    REQUIRE(client.Send(test::MakePing(static_cast<uint64_t>(i)), SendPriority::kControl) ==
            SendResult::kOk);
  REQUIRE(server_delegate.WaitMessages(kPings, kWaitMs));
  CHECK(server_delegate.messages().back().ping().id() == kPings - 1);

  client.Close(Error{ErrorCode::kOk, ""});
  REQUIRE(server_delegate.WaitClosed(kWaitMs));
  REQUIRE(client_delegate.WaitClosed(kWaitMs));
  INFO(server_delegate.closed_reason().ToString());
  CHECK(server_delegate.closed_reason().code == ErrorCode::kConnectionClosed);
  client.Stop();
  server.Stop();
}

}  // namespace
}  // namespace lifeline
