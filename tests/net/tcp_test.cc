#include "net/tcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "net/testing/transport_pair.h"
#include "tests/net/net_test_util.h"

namespace lifeline {
namespace {

using test::RawPeer;

TEST_CASE("ParseHostPort accepts names, IPv4 and bracketed IPv6", "[tcp]") {
  struct Case {
    const char* text;
    uint16_t default_port;
    const char* host;
    uint16_t port;
  };
  const Case cases[] = {
      {"example.com:5000", 0, "example.com", 5000},
      {"127.0.0.1:1", 0, "127.0.0.1", 1},
      {"localhost:65535", 0, "localhost", 65535},
      {"my-host_1.lan:080", 0, "my-host_1.lan", 80},
      {"[::1]:5000", 0, "::1", 5000},
      {"[fe80::1%eth0]:22", 0, "fe80::1%eth0", 22},
      {"[2001:db8::7]", 7000, "2001:db8::7", 7000},
      {"host", 7000, "host", 7000},
      {"host:5001", 7000, "host", 5001},
      {"::1", 7000, "::1", 7000},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto parsed = ParseHostPort(c.text, c.default_port);
    REQUIRE(parsed.ok());
    CHECK(parsed->host == c.host);
    CHECK(parsed->port == c.port);
  }
}

TEST_CASE("ParseHostPort names the text in its errors", "[tcp]") {
  struct Case {
    const char* text;
    uint16_t default_port;
  };
  const Case cases[] = {
      {"", 0},
      {"host", 0},
      {"host:", 0},
      {"host:0", 0},
      {"host:65536", 0},
      {"host:99999999999", 0},
      {"host:abc", 0},
      {"host:+5", 0},
      {"host:-1", 0},
      {"host:5 ", 0},
      {":5000", 0},
      {"[::1", 0},
      {"[::1]x", 0},
      {"[::1]:", 0},
      {"[]:5000", 0},
      {"[nope]:5000", 0},
      {"::1", 0},
      {"a b:5000", 0},
      {"ho/st:5000", 0},
      {"host:50:00", 0},
      {"[::1]:70000", 0},
      {"host\n:5000", 0},
  };
  for (const Case& c : cases) {
    INFO("\"" << c.text << "\"");
    auto parsed = ParseHostPort(c.text, c.default_port);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kAddressInvalid);
    const std::string text = c.text;
    if (!text.empty() && text.find('\n') == std::string::npos) {
      CHECK_THAT(parsed.error().message, Catch::Contains("\"" + text + "\""));
    }
  }
}

TEST_CASE("ParseHostPort refuses IPv6 literals with an embedded NUL or junk", "[tcp]") {
  // Found by fuzz_proxy_url: inet_pton() stopped at the NUL and accepted "::cc".
  using namespace std::string_literals;
  for (const std::string& text :
       {"::cc\0junk"s, "[::cc\0]:5000"s, "[::1\0x]:5000"s, "[::1 ]:5000"s, "[::1%eth0\0]:5000"s}) {
    INFO(text.size());
    CHECK_FALSE(ParseHostPort(text, 1080).ok());
  }
  CHECK(ParseHostPort("::cc", 1080).ok());
  CHECK(ParseHostPort("[::ffff:127.0.0.1]:5000").ok());
}

TEST_CASE("HostPort::ToString brackets IPv6", "[tcp]") {
  CHECK(HostPort{"::1", 5000}.ToString() == "[::1]:5000");
  CHECK(HostPort{"127.0.0.1", 80}.ToString() == "127.0.0.1:80");
  CHECK(HostPort{"example.com", 1}.ToString() == "example.com:1");
}

// Reads exactly `size` bytes (or fails after the usual generous limit).
std::string ReadExactly(Transport& transport, size_t size) {
  std::string out;
  const int64_t deadline = MonotonicNowUs() + int64_t{test::kWaitMs} * 1000;
  while (out.size() < size && test::MsUntil(deadline) > 0) {
    char buffer[4096];
    IoResult result = transport.Read(std::span<uint8_t>(
        reinterpret_cast<uint8_t*>(buffer), std::min(sizeof(buffer), size - out.size())));
    if (result.status == IoStatus::kOk) {
      out.append(buffer, result.bytes);
    } else if (result.status == IoStatus::kWouldBlock) {
      pollfd fd{transport.fd(), POLLIN, 0};
      poll(&fd, 1, test::MsUntil(deadline));
    } else {
      break;
    }
  }
  return out;
}

std::span<const uint8_t> AsBytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST_CASE("TCP connect, accept and echo on loopback", "[tcp]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  const HostPort local = (*listener)->local_address();
  CHECK(local.host == "127.0.0.1");
  REQUIRE(local.port != 0);

  // The kernel completes the handshake before accept(), so connecting first is fine.
  auto client = ConnectTcp(local, test::kWaitMs);
  REQUIRE(client.ok());
  CHECK((*client)->PeerDescription() == local.ToString());
  auto server = (*listener)->Accept(test::kWaitMs);
  REQUIRE(server.ok());
  CHECK_THAT((*server)->PeerDescription(), Catch::StartsWith("127.0.0.1:"));

  RawPeer client_peer(std::move(client).value());
  const std::string request = "hello over tcp";
  REQUIRE(client_peer.WriteAll(AsBytes(request)));
  const std::string received = ReadExactly(**server, request.size());
  CHECK(received == request);
  RawPeer server_peer(std::move(server).value());
  REQUIRE(server_peer.WriteAll(AsBytes(received)));
  CHECK(ReadExactly(client_peer.transport(), request.size()) == request);

  // Nothing more to read now: kWouldBlock, not a blocking call.
  uint8_t byte = 0;
  CHECK(client_peer.transport().Read(std::span<uint8_t>(&byte, 1)).status == IoStatus::kWouldBlock);

  // Orderly end of stream, then reads and writes fail after Shutdown.
  client_peer.transport().Shutdown();
  CHECK(server_peer.WaitForEnd());
  CHECK(client_peer.transport().Write(AsBytes(request)).status == IoStatus::kError);
}

TEST_CASE("TCP large transfer with partial writes", "[tcp]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  auto client = ConnectTcp((*listener)->local_address(), test::kWaitMs);
  REQUIRE(client.ok());
  auto server = (*listener)->Accept(test::kWaitMs);
  REQUIRE(server.ok());

  std::string blob(4 * 1024 * 1024, '\0');
  for (size_t i = 0; i < blob.size(); ++i)
    blob[i] = static_cast<char>(i * 7 + i / 4096);
  std::string received;
  std::thread reader([&] { received = ReadExactly(**server, blob.size()); });
  RawPeer writer(std::move(client).value());
  CHECK(writer.WriteAll(AsBytes(blob)));
  reader.join();
  CHECK(received == blob);
}

TEST_CASE("ConnectTcp reports a refused connection with the address", "[tcp]") {
  // A bound socket that does not listen answers SYN with RST: refused, deterministically.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const HostPort target{"127.0.0.1", ntohs(address.sin_port)};

  auto result = ConnectTcp(target, test::kWaitMs);
  close(fd);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kConnectionRefused);
  CHECK_THAT(result.error().message, Catch::Contains(target.ToString()));
}

TEST_CASE("ConnectTcp honours a cancel flag set beforehand", "[tcp]") {
  std::atomic<bool> cancel{true};
  auto result = ConnectTcp(HostPort{"127.0.0.1", 9}, test::kWaitMs, &cancel);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kCancelled);
}

// A listener whose accept queue is full drops SYNs, so a connect hangs until its time
// limit: the way to test timeouts and cancellation without relying on outside networks.
struct FullBacklog {
  int listen_fd = -1;
  HostPort address;
  std::vector<std::unique_ptr<Transport>> clients;

  FullBacklog() {
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0)
      return;
    socklen_t length = sizeof(sin);
    getsockname(listen_fd, reinterpret_cast<sockaddr*>(&sin), &length);
    listen(listen_fd, 0);
    address = HostPort{"127.0.0.1", ntohs(sin.sin_port)};
  }
  ~FullBacklog() { close(listen_fd); }

  // Connects until one connection attempt hangs (its SYN is dropped). True when found.
  bool Fill() {
    for (int i = 0; i < 16; ++i) {
      auto result = ConnectTcp(address, 300);
      if (!result.ok())
        return result.error().code == ErrorCode::kConnectionTimedOut;
      clients.push_back(std::move(result).value());
    }
    return false;
  }
};

TEST_CASE("ConnectTcp times out when nobody answers", "[tcp]") {
  FullBacklog backlog;
  REQUIRE(backlog.address.port != 0);
  const int64_t start = MonotonicNowUs();
  if (!backlog.Fill()) {  // On Linux the last attempt timed out after 300 ms.
    WARN("this kernel does not drop SYNs on a full backlog; test skipped");
    return;
  }
  auto result = ConnectTcp(backlog.address, 200);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kConnectionTimedOut);
  CHECK_THAT(result.error().message, Catch::Contains(backlog.address.ToString()));
  CHECK(MonotonicNowUs() - start >= 200'000);
}

TEST_CASE("ConnectTcp stops when cancelled from another thread", "[tcp]") {
  FullBacklog backlog;
  REQUIRE(backlog.address.port != 0);
  if (!backlog.Fill()) {
    WARN("this kernel does not drop SYNs on a full backlog; test skipped");
    return;
  }
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  auto result = ConnectTcp(backlog.address, 60'000, &cancel);
  canceller.join();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kCancelled);
}

TEST_CASE("TcpListener::Accept times out", "[tcp]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  auto result = (*listener)->Accept(50);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kConnectionTimedOut);
  auto immediate = (*listener)->Accept(0);
  REQUIRE_FALSE(immediate.ok());
  CHECK(immediate.error().code == ErrorCode::kConnectionTimedOut);
}

TEST_CASE("TcpListener::Close wakes a blocked Accept and stops listening", "[tcp]") {
  auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(listener.ok());
  const HostPort address = (*listener)->local_address();
  std::atomic<bool> returned{false};
  Error error;
  std::thread acceptor([&] {
    auto result = (*listener)->Accept(-1);
    if (!result.ok())
      error = result.error();
    returned = true;
  });
  // Whether Close() lands before or during Accept(), the result is the same.
  (*listener)->Close();
  acceptor.join();
  CHECK(returned);
  CHECK(error.code == ErrorCode::kCancelled);
  // Later calls fail at once too.
  auto again = (*listener)->Accept(-1);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kCancelled);
  auto refused = ConnectTcp(address, test::kWaitMs);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kConnectionRefused);
}

TEST_CASE("TcpListener::Listen fails clearly", "[tcp]") {
  auto first = TcpListener::Listen(HostPort{"127.0.0.1", 0});
  REQUIRE(first.ok());
  SECTION("port in use") {
    auto second = TcpListener::Listen((*first)->local_address());
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().code == ErrorCode::kListenFailed);
    CHECK_THAT(second.error().message, Catch::Contains((*first)->local_address().ToString()));
  }
  SECTION("address not on this machine") {
    auto foreign = TcpListener::Listen(HostPort{"192.0.2.1", 0});  // TEST-NET-1.
    REQUIRE_FALSE(foreign.ok());
    CHECK(foreign.error().code == ErrorCode::kListenFailed);
  }
}

TEST_CASE("TCP over IPv6 loopback when available", "[tcp]") {
  auto listener = TcpListener::Listen(HostPort{"::1", 0});
  if (!listener.ok()) {
    WARN("no IPv6 loopback here: " << listener.error().ToString());
    return;
  }
  const HostPort local = (*listener)->local_address();
  CHECK(local.host == "::1");
  auto client = ConnectTcp(local, test::kWaitMs);
  REQUIRE(client.ok());
  CHECK((*client)->PeerDescription() == "[::1]:" + std::to_string(local.port));
  auto server = (*listener)->Accept(test::kWaitMs);
  REQUIRE(server.ok());
}

TEST_CASE("Transport pair carries bytes both ways", "[transport]") {
  auto [a, b] = CreateTransportPair();
  REQUIRE(a);
  REQUIRE(b);
  RawPeer peer_a(std::move(a));
  REQUIRE(peer_a.WriteAll(AsBytes("ping")));
  CHECK(ReadExactly(*b, 4) == "ping");
  RawPeer peer_b(std::move(b));
  REQUIRE(peer_b.WriteAll(AsBytes("pong")));
  CHECK(ReadExactly(peer_a.transport(), 4) == "pong");
  uint8_t byte = 0;
  CHECK(peer_a.transport().Read(std::span<uint8_t>(&byte, 1)).status == IoStatus::kWouldBlock);
  peer_b.transport().Shutdown();
  CHECK(peer_a.WaitForEnd());
}

TEST_CASE("FaultyTransport forces partial writes and injected failures", "[transport]") {
  auto [a, b] = CreateTransportPair();
  auto* faulty = new FaultyTransport(
      std::move(a), FaultOptions{.max_write_bytes = 3, .fail_writes_after_bytes = 10});
  std::unique_ptr<Transport> owned(faulty);
  const std::string text = "0123456789abcdef";
  IoResult first = owned->Write(AsBytes(text));
  CHECK(first.status == IoStatus::kOk);
  CHECK(first.bytes == 3);
  RawPeer peer(std::move(owned));
  CHECK_FALSE(peer.WriteAll(AsBytes(text.substr(3))));  // Fails after 10 bytes in total.
  CHECK(faulty->bytes_written() == 10);
  CHECK(ReadExactly(*b, 10) == "0123456789");
}

}  // namespace
}  // namespace lifeline

namespace lifeline {
namespace {

TEST_CASE("ParseListenAddress allows port 0, ParseHostPort does not", "[net][tcp]") {
  auto listen = ParseListenAddress("127.0.0.1:0");
  REQUIRE(listen.ok());
  CHECK(listen->port == 0);
  CHECK_FALSE(ParseHostPort("127.0.0.1:0").ok());
  auto missing = ParseListenAddress("127.0.0.1");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kAddressInvalid);
  CHECK_FALSE(ParseListenAddress("127.0.0.1:65536").ok());
  CHECK(ParseListenAddress("[::1]:7070")->port == 7070);
}

}  // namespace
}  // namespace lifeline
