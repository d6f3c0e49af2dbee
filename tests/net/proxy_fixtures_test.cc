// The proxy fixtures themselves, spoken to with raw sockets (no libcurl), so a failure of
// the proxy stack and a failure of a fixture are told apart.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/proxy_fixtures.h"
#include "tests/support/subprocess.h"

namespace lifeline::testing {
namespace {

std::string ReadSome(int fd, size_t at_least, int timeout_ms = 5000) {
  std::string out;
  char buffer[4096];
  while (out.size() < at_least) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
      break;
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0)
      break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// Reads an HTTP response head from `fd`.
std::string ReadHead(int fd) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && recv(fd, &c, 1, 0) == 1)
    head += c;
  return head;
}

void Send(int fd, const std::string& text) {
  REQUIRE(send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
}

std::string ConnectRequest(int port, const std::string& extra = "") {
  return "CONNECT 127.0.0.1:" + std::to_string(port) +
         " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + extra + "\r\n";
}

// SOCKS5 CONNECT request for 127.0.0.1:`port`.
std::string Socks5ConnectIpv4(int port) {
  return std::string("\x05\x01\x00\x01\x7f\x00\x00\x01", 8) + static_cast<char>(port >> 8) +
         static_cast<char>(port & 0xff);
}

void ExpectEcho(int fd) {
  Send(fd, "ping through the tunnel");
  CHECK(ReadSome(fd, 23) == "ping through the tunnel");
}

}  // namespace

TEST_CASE("squid fixture tunnels CONNECT and refuses a closed port with 503", "[proxy][squid]") {
  EchoServer echo;
  SquidProxy squid;
  const int fd = ConnectLoopback(squid.port());
  REQUIRE(fd >= 0);
  Send(fd, ConnectRequest(echo.port()));
  CHECK(ReadHead(fd).rfind("HTTP/1.1 200", 0) == 0);
  ExpectEcho(fd);
  close(fd);

  const int closed_port = FreeLoopbackPort();
  const int fd2 = ConnectLoopback(squid.port());
  Send(fd2, ConnectRequest(closed_port));
  CHECK(ReadHead(fd2).rfind("HTTP/1.1 503", 0) == 0);
  close(fd2);
}

TEST_CASE("squid Basic fixture asks for a login and accepts alice", "[proxy][squid]") {
  EchoServer echo;
  SquidProxy squid(SquidAuth::kBasic);
  const int fd = ConnectLoopback(squid.port());
  Send(fd, ConnectRequest(echo.port()));
  const std::string head = ReadHead(fd);
  CHECK(head.rfind("HTTP/1.1 407", 0) == 0);
  CHECK(head.find("Basic realm=\"test\"") != std::string::npos);
  close(fd);
  const int fd2 = ConnectLoopback(squid.port());
  // base64("alice:s3cret")
  Send(fd2, ConnectRequest(echo.port(), "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"));
  CHECK(ReadHead(fd2).rfind("HTTP/1.1 200", 0) == 0);
  ExpectEcho(fd2);
  close(fd2);
}

TEST_CASE("dante fixture speaks SOCKS5 without a login", "[proxy][dante]") {
  EchoServer echo;
  DanteProxy dante;
  const int fd = ConnectLoopback(dante.port());
  const uint8_t greeting[] = {5, 1, 0};
  REQUIRE(send(fd, greeting, 3, 0) == 3);
  CHECK(ReadSome(fd, 2) == std::string("\x05\x00", 2));
  Send(fd, Socks5ConnectIpv4(echo.port()));
  const std::string reply = ReadSome(fd, 10);
  REQUIRE(reply.size() == 10);
  CHECK(reply[1] == 0);
  ExpectEcho(fd);
  close(fd);
}

TEST_CASE("SOCKS5 test server checks the RFC 1929 login", "[proxy][socks]") {
  EchoServer echo;
  Socks5Server socks;
  auto login = [&](const std::string& password) {
    const int fd = ConnectLoopback(socks.port());
    const uint8_t greeting[] = {5, 2, 0, 2};
    REQUIRE(send(fd, greeting, 4, 0) == 4);
    CHECK(ReadSome(fd, 2) == std::string("\x05\x02", 2));
    std::string auth =
        std::string("\x01\x05") + "alice" + static_cast<char>(password.size()) + password;
    Send(fd, auth);
    return fd;
  };
  const int bad = login("wrong");
  CHECK(ReadSome(bad, 2) == std::string("\x01\x01", 2));
  close(bad);
  CHECK(socks.failed_logins() == 1);

  const int fd = login(kProxyPassword);
  CHECK(ReadSome(fd, 2) == std::string("\x01\x00", 2));
  Send(fd, Socks5ConnectIpv4(echo.port()));
  CHECK(ReadSome(fd, 10).substr(0, 2) == std::string("\x05\x00", 2));
  ExpectEcho(fd);
  close(fd);
  CHECK(socks.tunnels() == 1);
}

TEST_CASE("scripted proxy answers as scripted", "[proxy][scripted]") {
  EchoServer echo;
  SECTION("Basic login: 407 then 200") {
    ScriptedHttpProxy proxy(ScriptedProxyMode::kBasicLogin);
    const int fd = ConnectLoopback(proxy.port());
    Send(fd, ConnectRequest(echo.port()));
    CHECK(ReadHead(fd).rfind("HTTP/1.1 407", 0) == 0);
    Send(fd, ConnectRequest(echo.port(), "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"));
    CHECK(ReadHead(fd).rfind("HTTP/1.1 200", 0) == 0);
    ExpectEcho(fd);
    close(fd);
    CHECK(proxy.requests().size() == 2);
  }
  SECTION("502") {
    ScriptedHttpProxy proxy(ScriptedProxyMode::kBadGateway);
    const int fd = ConnectLoopback(proxy.port());
    Send(fd, ConnectRequest(echo.port()));
    CHECK(ReadHead(fd).rfind("HTTP/1.1 502", 0) == 0);
    close(fd);
  }
}

TEST_CASE("PAC file server serves its body", "[proxy][pac]") {
  HttpFileServer server("function FindProxyForURL(url, host) { return \"DIRECT\"; }");
  const int fd = ConnectLoopback(server.port());
  Send(fd, "GET /proxy.pac HTTP/1.0\r\n\r\n");
  const std::string response = ReadSome(fd, 1 << 20);
  CHECK(response.rfind("HTTP/1.0 200", 0) == 0);
  CHECK(response.find("FindProxyForURL") != std::string::npos);
  close(fd);
  CHECK(server.requests() == 1);
}

}  // namespace lifeline::testing
