// The relay server in-process with real TLS on loopback, driven by the real relay client.
#include <openssl/pem.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "base/time.h"
#include "net/relay/relay_client.h"
#include "net/relay/relay_server.h"
#include "net/tls/tls_transport.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

template <typename Predicate>
bool WaitUntil(Predicate predicate, int timeout_ms) {
  const int64_t deadline = MonotonicNowUs() + int64_t{timeout_ms} * 1000;
  while (MonotonicNowUs() < deadline) {
    if (predicate())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return predicate();
}

struct RelayFixture {
  explicit RelayFixture(RelayServerOptions options = {}, std::string db = ":memory:") {
    options.listen = "127.0.0.1:0";
    if (options.metrics_listen.empty())
      options.metrics_listen = "127.0.0.1:0";
    options.capture_hook = [this](std::span<const uint8_t> bytes) {
      std::lock_guard lock(capture_mutex);
      captured.insert(captured.end(), bytes.begin(), bytes.end());
    };
    auto key = RelayKey::Generate();
    REQUIRE(key.ok());
    auto store = OpenSqliteIdStore(db);
    REQUIRE(store.ok());
    auto created = RelayServer::Create(options, std::move(key).value(), std::move(store).value());
    REQUIRE(created.ok());
    server = std::move(created).value();
    server->Start();
  }
  RelayEndpoint Endpoint() const {
    RelayEndpoint endpoint;
    endpoint.address = server->listen_address();
    endpoint.fallback = server->listen_address();
    endpoint.pin = server->pin();
    endpoint.connect_timeout_ms = 3000;
    return endpoint;
  }
  std::string Captured() {
    std::lock_guard lock(capture_mutex);
    return std::string(captured.begin(), captured.end());
  }

  std::unique_ptr<RelayServer> server;
  std::mutex capture_mutex;
  std::vector<uint8_t> captured;
};

// A host's registration, with the updates it reported.
struct Host {
  Host(const RelayEndpoint& endpoint, const DeviceIdentity* identity)
      : client(endpoint, identity, [this](const RelayHostClient::Update& update) {
          std::lock_guard lock(mutex);
          updates.push_back(update);
          if (update.event == RelayHostClient::Event::kRegistered)
            id = update.id;
        }) {
    client.Start();
  }
  std::string WaitForId(int timeout_ms = 5000) {
    WaitUntil([&] { return !Id().empty(); }, timeout_ms);
    return Id();
  }
  std::string Id() {
    std::lock_guard lock(mutex);
    return id;
  }
  void ForgetId() {
    std::lock_guard lock(mutex);
    id.clear();
  }
  std::mutex mutex;
  std::vector<RelayHostClient::Update> updates;
  std::string id;
  RelayHostClient client;
};

// The same key for a second server (RelayKey is move-only): through PEM files.
RelayKey CopyKey(const RelayKey& key) {
  static int counter = 0;
  testing::TempDir dir;
  const std::string k = dir.File("k" + std::to_string(++counter));
  const std::string c = dir.File("c" + std::to_string(counter));
  FILE* kf = std::fopen(k.c_str(), "w");
  PEM_write_PrivateKey(kf, key.key(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(kf);
  FILE* cf = std::fopen(c.c_str(), "w");
  PEM_write_X509(cf, key.certificate());
  std::fclose(cf);
  auto loaded = RelayKey::Load(k, c, false);
  REQUIRE(loaded.ok());
  return std::move(loaded).value();
}

DeviceIdentity NewIdentity() {
  auto identity = DeviceIdentity::CreateEphemeral();
  REQUIRE(identity.ok());
  return std::move(identity).value();
}

// Blocking helpers on a spliced stream.
void WriteAll(Transport* stream, const std::string& text) {
  std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  const int64_t deadline = MonotonicNowUs() + 5'000'000;
  while (!rest.empty() && MonotonicNowUs() < deadline) {
    IoResult result = stream->Write(rest);
    if (result.status == IoStatus::kOk)
      rest = rest.subspan(result.bytes);
    else if (result.status != IoStatus::kWouldBlock)
      FAIL("write failed: " << result.error.ToString());
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  static_cast<void>(stream->PollEvents(false));
}

// `sender` (optional): the other end, whose TLS layer may still hold ciphertext to push.
std::string ReadExactly(Transport* stream, size_t size, Transport* sender = nullptr) {
  std::string out;
  const int64_t deadline = MonotonicNowUs() + 15'000'000;
  uint8_t buffer[4096];
  while (out.size() < size && MonotonicNowUs() < deadline) {
    static_cast<void>(stream->PollEvents(false));
    if (sender)
      static_cast<void>(sender->PollEvents(false));
    IoResult result = stream->Read({buffer, std::min(sizeof(buffer), size - out.size())});
    if (result.status == IoStatus::kOk)
      out.append(reinterpret_cast<const char*>(buffer), result.bytes);
    else if (result.status != IoStatus::kWouldBlock)
      break;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return out;
}

std::string HttpGet(const HostPort& address, const std::string& path) {
  auto stream = ConnectTcp(address, 2000);
  REQUIRE(stream.ok());
  WriteAll(stream->get(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out;
  uint8_t buffer[4096];
  const int64_t deadline = MonotonicNowUs() + 3'000'000;
  while (MonotonicNowUs() < deadline) {
    IoResult result = (*stream)->Read(buffer);
    if (result.status == IoStatus::kOk)
      out.append(reinterpret_cast<const char*>(buffer), result.bytes);
    else if (result.status != IoStatus::kWouldBlock)
      break;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return out;
}

// One Connect on a fresh connection; returns the relay's answer and how long it took.
std::pair<RelayMessage, int> AskFor(const RelayEndpoint& endpoint,
                                    const DeviceIdentity& identity,
                                    const std::string& id) {
  auto connection = ConnectToRelay(endpoint, identity, nullptr);
  REQUIRE(connection.ok());
  RelayMessage connect;
  connect.type = RelayMessageType::kConnect;
  connect.id = id;
  const int64_t start = MonotonicNowUs();
  REQUIRE(SendRelayMessage(connection->stream.get(), connect, 2000, nullptr).ok());
  auto answer = ReceiveRelayMessage(connection->stream.get(), 5000, nullptr);
  REQUIRE(answer.ok());
  return {*answer, static_cast<int>((MonotonicNowUs() - start) / 1000)};
}

TEST_CASE("A host registers, gets a signed stable ID, and keeps it across relay restarts",
          "[relay]") {
  testing::TempDir dir;
  const DeviceIdentity identity = NewIdentity();
  auto key = RelayKey::Generate();
  REQUIRE(key.ok());
  std::string first_id;
  for (int run = 0; run < 2; ++run) {
    RelayServerOptions options;
    options.listen = "127.0.0.1:0";
    auto store = OpenSqliteIdStore(dir.File("ids.sqlite"));
    REQUIRE(store.ok());
    auto server = RelayServer::Create(options, CopyKey(*key), std::move(store).value());
    REQUIRE(server.ok());
    (*server)->Start();
    RelayEndpoint endpoint;
    endpoint.address = (*server)->listen_address();
    endpoint.fallback = endpoint.address;
    endpoint.pin = key->pin();
    Host host(endpoint, &identity);
    const std::string id = host.WaitForId();
    REQUIRE(IsRelayId(id));
    CHECK(WaitUntil([&] { return (*server)->metrics().registered_hosts == 1; }, 2000));
    if (run == 0)
      first_id = id;
    else
      CHECK(id == first_id);
    host.client.Stop();
    (*server)->Stop();
  }
}

TEST_CASE("A wrong pin is refused before anything is sent", "[relay]") {
  RelayFixture relay;
  const DeviceIdentity identity = NewIdentity();
  RelayEndpoint endpoint = relay.Endpoint();
  endpoint.pin = std::string(64, '0');
  auto connection = ConnectToRelay(endpoint, identity, nullptr);
  REQUIRE_FALSE(connection.ok());
  CHECK(connection.error().code == ErrorCode::kRelayCertificateInvalid);

  Host host(endpoint, &identity);
  auto next = host.client.NextIncoming(5000);
  REQUIRE_FALSE(next.ok());
  CHECK(next.error().code == ErrorCode::kRelayCertificateInvalid);
  CHECK(relay.server->metrics().registered_hosts == 0);
}

TEST_CASE("Unknown, offline and rate-limited IDs get the same answer in the same time", "[relay]") {
  RelayServerOptions options;
  options.refuse_delay_ms = 200;
  options.id_requests_per_s = 0.01;
  options.id_burst = 2;
  RelayFixture relay(options);
  const DeviceIdentity host_identity = NewIdentity();
  const DeviceIdentity viewer = NewIdentity();
  std::string offline_id;
  {
    Host host(relay.Endpoint(), &host_identity);
    offline_id = host.WaitForId();
    REQUIRE(IsRelayId(offline_id));
  }  // The host left: its ID is known to the store but offline.
  REQUIRE(WaitUntil([&] { return relay.server->metrics().registered_hosts == 0; }, 2000));

  std::string unknown_id = "100000001";
  if (unknown_id == offline_id)
    unknown_id = "100000002";
  auto [unknown, unknown_ms] = AskFor(relay.Endpoint(), viewer, unknown_id);
  auto [offline, offline_ms] = AskFor(relay.Endpoint(), viewer, offline_id);
  // A third request exhausts nothing yet; use up the ID's burst, then ask again.
  static_cast<void>(AskFor(relay.Endpoint(), viewer, "200000000"));
  static_cast<void>(AskFor(relay.Endpoint(), viewer, "200000000"));
  auto [limited, limited_ms] = AskFor(relay.Endpoint(), viewer, "200000000");
  CHECK(relay.server->metrics().rate_limited >= 1);

  const auto unknown_bytes = EncodeRelayMessage(unknown).value();
  CHECK(unknown.type == RelayMessageType::kRefused);
  CHECK(unknown.error_code == static_cast<uint16_t>(ErrorCode::kPeerUnknownOrOffline));
  CHECK(EncodeRelayMessage(offline).value() == unknown_bytes);
  CHECK(EncodeRelayMessage(limited).value() == unknown_bytes);
  for (int ms : {unknown_ms, offline_ms, limited_ms}) {
    CHECK(ms >= 190);
    CHECK(ms < 200 + 150);  // One timing bucket (loaded machine: generous).
  }

  auto via = ConnectViaRelay(relay.Endpoint(), viewer, offline_id, nullptr);
  REQUIRE_FALSE(via.ok());
  CHECK(via.error().code == ErrorCode::kPeerUnknownOrOffline);
}

TEST_CASE("The relay pairs a viewer with the host and forwards bytes both ways, unchanged",
          "[relay]") {
  RelayFixture relay;
  const DeviceIdentity host_identity = NewIdentity();
  const DeviceIdentity viewer_identity = NewIdentity();
  Host host(relay.Endpoint(), &host_identity);
  const std::string id = host.WaitForId();
  REQUIRE(IsRelayId(id));

  auto viewer_future = std::async(std::launch::async, [&] {
    return ConnectViaRelay(relay.Endpoint(), viewer_identity, id, nullptr);
  });
  auto token = host.client.NextIncoming(5000);
  REQUIRE(token.ok());
  auto host_stream = host.client.OpenDataConnection(*token);
  REQUIRE(host_stream.ok());
  auto pairing = viewer_future.get();
  REQUIRE(pairing.ok());
  CHECK(pairing->binding.id == id);
  CHECK(pairing->binding.fingerprint == host_identity.fingerprint());
  CHECK(VerifyRelayBinding(pairing->binding, relay.server->pin()).ok());
  CHECK(WaitUntil([&] { return relay.server->metrics().active_pairs == 1; }, 2000));

  WriteAll(pairing->stream.get(), "from the viewer");
  CHECK(ReadExactly(host_stream->get(), 15) == "from the viewer");
  const std::string big(200'000, 'h');
  WriteAll(host_stream->get(), big);
  CHECK(ReadExactly(pairing->stream.get(), big.size()) == big);
  CHECK(relay.Captured() == "from the viewer" + big);
  CHECK(relay.server->metrics().bytes_forwarded == 15 + big.size());

  // The viewer leaves: the host's side is closed too, and the pair is gone.
  pairing->stream.reset();
  CHECK(WaitUntil([&] { return relay.server->metrics().active_pairs == 0; }, 3000));
  uint8_t byte;
  CHECK(WaitUntil(
      [&] {
        static_cast<void>((*host_stream)->PollEvents(false));
        return (*host_stream)->Read({&byte, 1}).status != IoStatus::kWouldBlock;
      },
      3000));
}

TEST_CASE("A host that stops reading stops its viewer; nothing is lost or buffered without bound",
          "[relay]") {
  RelayServerOptions options;
  options.max_buffered_bytes = 64 * 1024;
  RelayFixture relay(options);
  const DeviceIdentity host_identity = NewIdentity();
  Host host(relay.Endpoint(), &host_identity);
  const std::string id = host.WaitForId();
  auto viewer_future = std::async(std::launch::async, [&] {
    return ConnectViaRelay(relay.Endpoint(), NewIdentity(), id, nullptr);
  });
  auto token = host.client.NextIncoming(5000);
  REQUIRE(token.ok());
  auto host_stream = host.client.OpenDataConnection(*token);
  REQUIRE(host_stream.ok());
  auto pairing = viewer_future.get();
  REQUIRE(pairing.ok());

  // The viewer writes for 2 s; the host reads nothing.
  std::vector<uint8_t> chunk(16 * 1024);
  uint64_t written = 0;
  const int64_t until = MonotonicNowUs() + 2'000'000;
  while (MonotonicNowUs() < until) {
    for (size_t i = 0; i < chunk.size(); ++i)
      chunk[i] = static_cast<uint8_t>((written + i) * 7);
    IoResult result = pairing->stream->Write(chunk);
    if (result.status == IoStatus::kOk) {
      written += result.bytes;
      if (result.bytes < chunk.size())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } else {
      REQUIRE(result.status == IoStatus::kWouldBlock);
      static_cast<void>(pairing->stream->PollEvents(true));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  // Stopped by back-pressure: what the kernel's loopback buffers and the relay's bounded
  // buffers hold, far below what 2 s of writing would be (several GB).
  INFO("written while the host did not read: " << written);
  CHECK(written < 64u * 1024 * 1024);
  CHECK(relay.server->metrics().bytes_forwarded <= written);
  // The relay still serves others meanwhile.
  CHECK(HttpGet(relay.server->metrics_address(), "/healthz").find("200 OK") != std::string::npos);
  // Every byte arrives, in order, once the host reads.
  const std::string received = ReadExactly(host_stream->get(), written, pairing->stream.get());
  REQUIRE(received.size() == written);
  bool intact = true;
  for (uint64_t i = 0; i < written && intact; ++i)
    intact = static_cast<uint8_t>(received[i]) == static_cast<uint8_t>(i * 7);
  CHECK(intact);
}

TEST_CASE("Only the registered host's own key can take its viewers", "[relay]") {
  RelayServerOptions options;
  options.pair_timeout_ms = 500;
  RelayFixture relay(options);
  const DeviceIdentity host_identity = NewIdentity();
  const DeviceIdentity thief = NewIdentity();
  Host host(relay.Endpoint(), &host_identity);
  const std::string id = host.WaitForId();
  auto viewer_future = std::async(std::launch::async, [&] {
    return ConnectViaRelay(relay.Endpoint(), NewIdentity(), id, nullptr);
  });
  auto token = host.client.NextIncoming(5000);
  REQUIRE(token.ok());
  // Someone else presents the token on a data connection: closed, no pairing.
  auto connection = ConnectToRelay(relay.Endpoint(), thief, nullptr);
  REQUIRE(connection.ok());
  RelayMessage accept;
  accept.type = RelayMessageType::kAccept;
  accept.token = *token;
  REQUIRE(AddDeviceProof(thief, *connection, &accept).ok());
  REQUIRE(SendRelayMessage(connection->stream.get(), accept, 2000, nullptr).ok());
  auto after = ReceiveRelayMessage(connection->stream.get(), 3000, nullptr);
  CHECK_FALSE(after.ok());
  CHECK(relay.server->metrics().active_pairs == 0);
  // The token was spent by the failed attempt; the viewer gets the one negative answer
  // when the pair times out.
  auto pairing = viewer_future.get();
  REQUIRE_FALSE(pairing.ok());
  CHECK(pairing.error().code == ErrorCode::kPeerUnknownOrOffline);
}

TEST_CASE("A device proof from another connection or without the key is refused", "[relay]") {
  RelayFixture relay;
  const DeviceIdentity identity = NewIdentity();
  auto first = ConnectToRelay(relay.Endpoint(), identity, nullptr);
  auto second = ConnectToRelay(relay.Endpoint(), identity, nullptr);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  RelayMessage reg;
  reg.type = RelayMessageType::kRegister;
  REQUIRE(AddDeviceProof(identity, *first, &reg).ok());
  // Replayed on the second connection: its exporter differs, so the proof fails.
  REQUIRE(SendRelayMessage(second->stream.get(), reg, 2000, nullptr).ok());
  CHECK_FALSE(ReceiveRelayMessage(second->stream.get(), 3000, nullptr).ok());
  // Someone else's public key with our signature: refused too.
  RelayMessage forged = reg;
  const DeviceIdentity other = NewIdentity();
  RelayMessage other_proof;
  REQUIRE(AddDeviceProof(other, *first, &other_proof).ok());
  forged.device_spki = other_proof.device_spki;
  REQUIRE(SendRelayMessage(first->stream.get(), forged, 2000, nullptr).ok());
  CHECK_FALSE(ReceiveRelayMessage(first->stream.get(), 3000, nullptr).ok());
  CHECK(relay.server->metrics().registered_hosts == 0);
}

TEST_CASE("Malformed input closes that connection only", "[relay]") {
  RelayFixture relay;
  const DeviceIdentity host_identity = NewIdentity();
  Host host(relay.Endpoint(), &host_identity);
  REQUIRE(IsRelayId(host.WaitForId()));
  auto connection = ConnectToRelay(relay.Endpoint(), NewIdentity(), nullptr);
  REQUIRE(connection.ok());
  WriteAll(connection->stream.get(), std::string("\xff\xff garbage", 10));
  auto answer = ReceiveRelayMessage(connection->stream.get(), 3000, nullptr);
  REQUIRE_FALSE(answer.ok());
  CHECK(answer.error().code != ErrorCode::kConnectionTimedOut);
  CHECK(relay.server->metrics().registered_hosts == 1);
  // Plain garbage instead of TLS: also just closed.
  auto raw = ConnectTcp(relay.server->listen_address(), 2000);
  REQUIRE(raw.ok());
  WriteAll(raw->get(), "GET / HTTP/1.0\r\n\r\n");
  CHECK(relay.server->metrics().registered_hosts == 1);
}

TEST_CASE("Silent hosts are dropped after three keep-alive intervals", "[relay]") {
  RelayServerOptions options;
  options.keepalive_interval_ms = 200;
  RelayFixture relay(options);
  const DeviceIdentity silent = NewIdentity();
  auto connection = ConnectToRelay(relay.Endpoint(), silent, nullptr);
  REQUIRE(connection.ok());
  RelayMessage reg;
  reg.type = RelayMessageType::kRegister;
  REQUIRE(AddDeviceProof(silent, *connection, &reg).ok());
  REQUIRE(SendRelayMessage(connection->stream.get(), reg, 2000, nullptr).ok());
  auto answer = ReceiveRelayMessage(connection->stream.get(), 3000, nullptr);
  REQUIRE(answer.ok());
  CHECK(answer->type == RelayMessageType::kRegistered);
  CHECK(answer->keepalive_interval_ms == 200);
  CHECK(relay.server->metrics().registered_hosts == 1);
  // We never ping: gone after 3 x 200 ms (plus the 250 ms sweep).
  CHECK(WaitUntil([&] { return relay.server->metrics().registered_hosts == 0; }, 3000));

  // A real client pings and stays.
  const DeviceIdentity identity = NewIdentity();
  Host host(relay.Endpoint(), &identity);
  REQUIRE(IsRelayId(host.WaitForId()));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  CHECK(relay.server->metrics().registered_hosts == 1);
}

TEST_CASE("Clients fall back to the second port when the first does not answer", "[relay]") {
  RelayFixture relay;
  RelayEndpoint endpoint = relay.Endpoint();
  endpoint.address.port = static_cast<uint16_t>(testing::FreeLoopbackPort());  // Nobody there.
  endpoint.fallback = relay.server->listen_address();
  auto connection = ConnectToRelay(endpoint, NewIdentity(), nullptr);
  REQUIRE(connection.ok());
  CHECK(connection->address.port == relay.server->listen_address().port);

  endpoint.fallback->port = static_cast<uint16_t>(testing::FreeLoopbackPort());
  auto none = ConnectToRelay(endpoint, NewIdentity(), nullptr);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ErrorCode::kRelayUnreachable);
}

TEST_CASE("The metrics endpoint speaks Prometheus text; /healthz answers", "[relay]") {
  RelayFixture relay;
  const DeviceIdentity identity = NewIdentity();
  Host host(relay.Endpoint(), &identity);
  REQUIRE(IsRelayId(host.WaitForId()));
  const std::string metrics = HttpGet(relay.server->metrics_address(), "/metrics");
  CHECK(metrics.find("200 OK") != std::string::npos);
  CHECK(metrics.find("# TYPE lifeline_relay_registered_hosts gauge") != std::string::npos);
  CHECK(metrics.find("\nlifeline_relay_registered_hosts 1\n") != std::string::npos);
  CHECK(metrics.find("lifeline_relay_bytes_forwarded_total") != std::string::npos);
  CHECK(metrics.find("lifeline_relay_rate_limited_total") != std::string::npos);
  CHECK(metrics.find("lifeline_relay_active_pairs") != std::string::npos);
  const std::string health = HttpGet(relay.server->metrics_address(), "/healthz");
  CHECK(health.find("200 OK") != std::string::npos);
  CHECK(HttpGet(relay.server->metrics_address(), "/other").find("404") != std::string::npos);
}

}  // namespace
}  // namespace lifeline
