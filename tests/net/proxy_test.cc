// ConnectOutbound through real proxies on loopback (squid, dante, our SOCKS5 and scripted
// HTTP proxies, libproxy with PAC files), each followed by our real TLS 1.3 handshake
// (TlsTransport) and data through the tunnel.
#include "net/proxy/outbound.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "base/log.h"
#include "net/proxy/curl_tunnel.h"
#include "net/proxy/proxy_detection.h"
#include "net/tcp.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"
#include "tests/support/proxy_fixtures.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

using testing::kProxyPassword;
using testing::kProxyUser;

constexpr int kWaitMs = 15'000;

const DeviceIdentity& Identity() {
  static const DeviceIdentity identity = [] {
    auto created = DeviceIdentity::CreateEphemeral();
    REQUIRE(created.ok());
    return std::move(created).value();
  }();
  return identity;
}

bool WaitFor(Transport& transport, short events) {
  if (events == POLLIN && transport.HasBufferedInput())
    return true;
  pollfd p{transport.fd(), transport.PollEvents(events == POLLOUT), 0};
  return poll(&p, 1, kWaitMs) > 0;
}

bool WriteAllBytes(Transport& transport, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    IoResult r =
        transport.Write({reinterpret_cast<const uint8_t*>(text.data()) + done, text.size() - done});
    if (r.status == IoStatus::kOk) {
      done += r.bytes;
    } else if (r.status != IoStatus::kWouldBlock || !WaitFor(transport, POLLOUT)) {
      return false;
    }
  }
  transport.Write({});  // Push any ciphertext still waiting in TLS.
  return true;
}

std::string ReadBytes(Transport& transport, size_t size) {
  std::string out;
  uint8_t buffer[4096];
  while (out.size() < size) {
    IoResult r = transport.Read(buffer);
    if (r.status == IoStatus::kOk) {
      out.append(reinterpret_cast<char*>(buffer), r.bytes);
    } else if (r.status != IoStatus::kWouldBlock || !WaitFor(transport, POLLIN)) {
      break;
    }
  }
  return out;
}

// Accepts connections one after another, runs the TLS 1.3 server handshake and echoes
// what arrives over TLS.
class TlsEchoServer {
 public:
  TlsEchoServer() {
    auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
    REQUIRE(listener.ok());
    listener_ = std::move(listener).value();
    thread_ = std::thread([this] { Run(); });
  }
  ~TlsEchoServer() {
    listener_->Close();
    thread_.join();
  }
  HostPort address() const { return listener_->local_address(); }
  int handshakes() const { return handshakes_.load(); }

 private:
  void Run() {
    while (true) {
      auto accepted = listener_->Accept(-1);
      if (!accepted.ok())
        return;
      auto tls = TlsHandshake(std::move(accepted).value(), TlsRole::kServer, Identity(), kWaitMs);
      if (!tls.ok())
        continue;
      handshakes_.fetch_add(1);
      Transport& transport = **tls;
      uint8_t buffer[4096];
      while (true) {
        IoResult r = transport.Read(buffer);
        if (r.status == IoStatus::kOk) {
          if (!WriteAllBytes(transport, std::string(reinterpret_cast<char*>(buffer), r.bytes)))
            break;
        } else if (r.status != IoStatus::kWouldBlock || !WaitFor(transport, POLLIN)) {
          break;
        }
      }
    }
  }

  std::unique_ptr<TcpListener> listener_;
  std::atomic<int> handshakes_{0};
  std::thread thread_;
};

// Runs our TLS 1.3 client handshake over `transport` and one echo round trip.
void ExpectTlsRoundTrip(std::unique_ptr<Transport> transport) {
  auto tls = TlsHandshake(std::move(transport), TlsRole::kClient, Identity(), kWaitMs);
  REQUIRE(tls.ok());
  CHECK((*tls)->protocol_version() == "TLSv1.3");
  const std::string message = "hello through the proxy";
  REQUIRE(WriteAllBytes(**tls, message));
  CHECK(ReadBytes(**tls, message.size()) == message);
}

ProxyConfig Manual(ProxyType type,
                   int port,
                   bool auth = false,
                   const std::string& password = kProxyPassword) {
  ProxyConfig config;
  config.mode = ProxyMode::kManual;
  config.type = type;
  config.host = "127.0.0.1";
  config.port = static_cast<uint16_t>(port);
  config.auth = auth;
  if (auth) {
    config.user = kProxyUser;
    config.password = password;
  }
  return config;
}

OutboundOptions Options(int timeout_ms = kWaitMs) {
  OutboundOptions options;
  options.timeout_ms = timeout_ms;
  return options;
}

// Sets environment variables for one test and restores them after. Waits for any
// detection worker first (it reads the environment).
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& values) {
    REQUIRE(WaitForProxyDetectionIdle(kWaitMs));
    for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy",
                             "NO_PROXY", "all_proxy", "ALL_PROXY"}) {
      Save(name);
      unsetenv(name);
    }
    for (const auto& [name, value] : values) {
      Save(name);
      setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    WaitForProxyDetectionIdle(kWaitMs);
    for (const auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }

 private:
  void Save(const std::string& name) {
    if (saved_.count(name))
      return;
    const char* value = getenv(name.c_str());
    saved_[name] = value ? std::optional<std::string>(value) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

// Sends log lines to a file for one test; restores standard error only after.
class CapturedLog {
 public:
  CapturedLog() { log::Init(dir_.File("log.txt"), log::Level::kDebug); }
  ~CapturedLog() { log::Init("", log::Level::kInfo); }
  std::string Text() {
    log::Flush();
    return testing::ReadFileToString(dir_.File("log.txt"));
  }

 private:
  testing::TempDir dir_;
};

}  // namespace

TEST_CASE("Direct connection carries TLS 1.3", "[proxy]") {
  TlsEchoServer server;
  OutboundRoute route;
  auto transport = ConnectOutbound(server.address(), ProxyConfig{}, Options(), &route);
  REQUIRE(transport.ok());
  CHECK(route.description == "direct");
  ExpectTlsRoundTrip(std::move(transport).value());
}

TEST_CASE("HTTP CONNECT through real squid carries TLS 1.3", "[proxy][squid]") {
  TlsEchoServer server;
  struct Case {
    testing::SquidAuth auth;
    const char* name;
  };
  const Case cases[] = {{testing::SquidAuth::kNone, "none"},
                        {testing::SquidAuth::kBasic, "Basic"},
                        {testing::SquidAuth::kDigest, "Digest"},
                        {testing::SquidAuth::kNtlm, "NTLM"}};
  for (const Case& c : cases) {
    DYNAMIC_SECTION("squid login: " << c.name) {
      testing::SquidProxy squid(c.auth);
      ProxyConfig config =
          Manual(ProxyType::kHttp, squid.port(), c.auth != testing::SquidAuth::kNone);
      if (c.auth == testing::SquidAuth::kNtlm)
        config.domain = "CORP";
      OutboundRoute route;
      auto transport = ConnectOutbound(server.address(), config, Options(), &route);
      REQUIRE(transport.ok());
      CHECK(route.http_connect_status == 200);
      CHECK(route.description.find("HTTP proxy " + squid.address()) != std::string::npos);
      CHECK(transport.value()->PeerDescription().find("via HTTP proxy") != std::string::npos);
      ExpectTlsRoundTrip(std::move(transport).value());
      if (c.auth != testing::SquidAuth::kNone) {
        // squid logs who logged in; with NTLM the domain we sent too (ntlm_fake_auth
        // mangles the name a little: "CORPa\\alicew").
        CHECK(squid.WaitForAccessLog("TCP_TUNNEL/200"));
        const std::string access_log = squid.AccessLog();
        INFO("squid access.log: " << access_log);
        CHECK(access_log.find("alice") != std::string::npos);
        if (c.auth == testing::SquidAuth::kNtlm)
          CHECK(access_log.find("CORP") != std::string::npos);
      }
    }
  }
}

TEST_CASE("SOCKS5 through dante and through a server with a login carries TLS 1.3",
          "[proxy][socks]") {
  TlsEchoServer server;
  SECTION("dante, no login") {
    testing::DanteProxy dante;
    OutboundRoute route;
    auto transport = ConnectOutbound(server.address(), Manual(ProxyType::kSocks5, dante.port()),
                                     Options(), &route);
    REQUIRE(transport.ok());
    CHECK(route.description == "SOCKS5 proxy 127.0.0.1:" + std::to_string(dante.port()));
    ExpectTlsRoundTrip(std::move(transport).value());
  }
  SECTION("RFC 1929 login") {
    testing::Socks5Server socks;
    auto transport = ConnectOutbound(server.address(),
                                     Manual(ProxyType::kSocks5, socks.port(), true), Options());
    REQUIRE(transport.ok());
    ExpectTlsRoundTrip(std::move(transport).value());
    CHECK(socks.tunnels() == 1);
  }
  SECTION("wrong SOCKS password") {
    testing::Socks5Server socks;
    auto transport = ConnectOutbound(
        server.address(), Manual(ProxyType::kSocks5, socks.port(), true, "wr0ng-pass"), Options());
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kProxyAuthFailed);
    CHECK(transport.error().message.find("\"alice\"") != std::string::npos);
    CHECK(transport.error().message.find("127.0.0.1:" + std::to_string(socks.port())) !=
          std::string::npos);
    CHECK(transport.error().message.find("wr0ng-pass") == std::string::npos);
    CHECK(socks.failed_logins() == 1);
  }
  SECTION("SOCKS login required but none configured") {
    testing::Socks5Server socks;
    auto transport =
        ConnectOutbound(server.address(), Manual(ProxyType::kSocks5, socks.port()), Options());
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kProxyAuthFailed);
    CHECK(transport.error().message.find("requires a login") != std::string::npos);
  }
}

TEST_CASE("Proxy failures are distinct errors that name what failed", "[proxy][squid]") {
  TlsEchoServer server;
  CapturedLog log;
  SECTION("wrong password at squid Basic: 407 names the user, the proxy and the schemes") {
    testing::SquidProxy squid(testing::SquidAuth::kBasic);
    OutboundRoute route;
    auto transport = ConnectOutbound(
        server.address(), Manual(ProxyType::kHttp, squid.port(), true, "n0t-the-password"),
        Options(), &route);
    REQUIRE_FALSE(transport.ok());
    const Error& error = transport.error();
    CHECK(error.code == ErrorCode::kProxyAuthFailed);
    CHECK(error.message.find("\"alice\"") != std::string::npos);
    CHECK(error.message.find(squid.address()) != std::string::npos);
    CHECK(error.message.find("407") != std::string::npos);
    CHECK(error.message.find("Basic") != std::string::npos);
    CHECK(route.http_connect_status == 407);
    CHECK(error.message.find("n0t-the-password") == std::string::npos);
    CHECK(log.Text().find("n0t-the-password") == std::string::npos);
  }
  SECTION("no login at all at squid Basic") {
    testing::SquidProxy squid(testing::SquidAuth::kBasic);
    auto transport =
        ConnectOutbound(server.address(), Manual(ProxyType::kHttp, squid.port()), Options());
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kProxyAuthFailed);
    CHECK(transport.error().message.find("no proxy user is configured") != std::string::npos);
  }
  SECTION("CONNECT to a closed port: squid answers 503") {
    testing::SquidProxy squid;
    const HostPort closed{"127.0.0.1", static_cast<uint16_t>(testing::FreeLoopbackPort())};
    OutboundRoute route;
    auto transport =
        ConnectOutbound(closed, Manual(ProxyType::kHttp, squid.port()), Options(), &route);
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kProxyTunnelRefused);
    CHECK(transport.error().message.find("HTTP 503") != std::string::npos);
    CHECK(route.http_connect_status == 503);
  }
  SECTION("proxy not listening") {
    const int dead_port = testing::FreeLoopbackPort();
    auto transport =
        ConnectOutbound(server.address(), Manual(ProxyType::kHttp, dead_port), Options());
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kProxyUnreachable);
    CHECK(transport.error().message.find("127.0.0.1:" + std::to_string(dead_port)) !=
          std::string::npos);
  }
}

// security.md requirement 24: 200, 407 -> retry -> 200, repeated 407, 502, close after 200.
TEST_CASE("Scripted proxy: the CONNECT answers of requirement 24", "[proxy][scripted]") {
  TlsEchoServer server;
  using testing::ScriptedHttpProxy;
  using testing::ScriptedProxyMode;
  SECTION("200") {
    ScriptedHttpProxy proxy(ScriptedProxyMode::kAllow);
    OutboundRoute route;
    auto transport = ConnectOutbound(server.address(), Manual(ProxyType::kHttp, proxy.port()),
                                     Options(), &route);
    REQUIRE(transport.ok());
    CHECK(route.http_connect_status == 200);
    ExpectTlsRoundTrip(std::move(transport).value());
    REQUIRE(proxy.requests().size() == 1);
    CHECK(proxy.requests()[0].rfind("CONNECT " + server.address().ToString() + " HTTP/1.1", 0) ==
          0);
  }
  SECTION("407, retry with the login, 200") {
    ScriptedHttpProxy proxy(ScriptedProxyMode::kBasicLogin);
    auto transport =
        ConnectOutbound(server.address(), Manual(ProxyType::kHttp, proxy.port(), true), Options());
    REQUIRE(transport.ok());
    ExpectTlsRoundTrip(std::move(transport).value());
    const auto requests = proxy.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].find("Proxy-Authorization") == std::string::npos);
    CHECK(requests[1].find("Proxy-Authorization: Basic") != std::string::npos);
  }
  SECTION("repeated 407") {
    ScriptedHttpProxy proxy(ScriptedProxyMode::kAlways407);
    auto transport =
        ConnectOutbound(server.address(), Manual(ProxyType::kHttp, proxy.port(), true), Options());
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kProxyAuthFailed);
    CHECK(transport.error().message.find("Basic, NTLM") != std::string::npos);
    CHECK(proxy.requests().size() >= 2);
  }
  SECTION("502") {
    ScriptedHttpProxy proxy(ScriptedProxyMode::kBadGateway);
    OutboundRoute route;
    auto transport = ConnectOutbound(server.address(), Manual(ProxyType::kHttp, proxy.port()),
                                     Options(), &route);
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kProxyTunnelRefused);
    CHECK(transport.error().message.find("HTTP 502") != std::string::npos);
    CHECK(route.http_connect_status == 502);
  }
  SECTION("close after 200: the tunnel opens, our TLS handshake fails cleanly") {
    ScriptedHttpProxy proxy(ScriptedProxyMode::kCloseAfter200);
    auto transport =
        ConnectOutbound(server.address(), Manual(ProxyType::kHttp, proxy.port()), Options());
    REQUIRE(transport.ok());
    auto tls = TlsHandshake(std::move(transport).value(), TlsRole::kClient, Identity(), kWaitMs);
    REQUIRE_FALSE(tls.ok());
    CHECK(tls.error().message.find("via HTTP proxy") != std::string::npos);
  }
}

TEST_CASE("Automatic: credentials from the environment are used but never logged",
          "[proxy][auto][squid]") {
  TlsEchoServer server;
  testing::SquidProxy squid(testing::SquidAuth::kBasic);
  ScopedEnv env({{"https_proxy", std::string("http://") + kProxyUser + ":" + kProxyPassword + "@" +
                                     squid.address()}});
  CapturedLog log;
  ProxyConfig config;
  config.mode = ProxyMode::kAutomatic;
  OutboundRoute route;
  auto transport = ConnectOutbound(server.address(), config, Options(), &route);
  REQUIRE(transport.ok());
  CHECK(route.description.find("automatic: HTTP proxy " + squid.address()) == 0);
  ExpectTlsRoundTrip(std::move(transport).value());
  const std::string text = log.Text();
  CHECK(text.find("http://" + squid.address()) != std::string::npos);  // It did log the proxy.
  CHECK(text.find(kProxyPassword) == std::string::npos);
  CHECK(route.description.find(kProxyPassword) == std::string::npos);
}

TEST_CASE("Automatic: a PAC served on loopback is read through libproxy, proxies tried in order",
          "[proxy][auto][pac]") {
  TlsEchoServer server;
  testing::Socks5Server socks("", "");
  const int dead_port = testing::FreeLoopbackPort();
  testing::HttpFileServer pac(
      "function FindProxyForURL(url, host) {\n"
      "  return \"PROXY 127.0.0.1:" +
      std::to_string(dead_port) + "; SOCKS5 127.0.0.1:" + std::to_string(socks.port()) +
      "; DIRECT\";\n}\n");
  ScopedEnv env({{"https_proxy", "pac+" + pac.Url("/proxy.pac")}});

  auto detection = DetectProxies(server.address(), kWaitMs);
  REQUIRE(detection.ok());
  REQUIRE(detection->proxies.size() == 3);
  CHECK(detection->proxies[0].ToString() == "http://127.0.0.1:" + std::to_string(dead_port));
  CHECK(detection->proxies[1].ToString() == "socks5://127.0.0.1:" + std::to_string(socks.port()));
  CHECK(detection->proxies[2].ToString() == "direct://");
  CHECK_FALSE(detection->pac_problem.has_value());
  CHECK(pac.requests() >= 1);

  ProxyConfig config;
  config.mode = ProxyMode::kAutomatic;
  OutboundRoute route;
  auto transport = ConnectOutbound(server.address(), config, Options(), &route);
  REQUIRE(transport.ok());
  REQUIRE(route.attempts.size() == 2);
  CHECK(route.attempts[0].find("E230") != std::string::npos);  // The dead HTTP proxy first.
  CHECK(route.attempts[1].find("SOCKS5 proxy") != std::string::npos);
  ExpectTlsRoundTrip(std::move(transport).value());
  CHECK(socks.tunnels() == 1);
}

TEST_CASE("Automatic: an unreachable PAC is an explicit, logged policy decision",
          "[proxy][auto][pac]") {
  TlsEchoServer server;
  const int dead_port = testing::FreeLoopbackPort();
  ScopedEnv env(
      {{"https_proxy", "pac+http://127.0.0.1:" + std::to_string(dead_port) + "/proxy.pac"}});
  CapturedLog log;
  ProxyConfig config;
  config.mode = ProxyMode::kAutomatic;

  auto detection = DetectProxies(server.address(), kWaitMs);
  REQUIRE(detection.ok());
  REQUIRE(detection->pac_problem.has_value());
  CHECK(detection->pac_problem->code == ErrorCode::kPacUnavailable);

  SECTION("policy: direct") {
    OutboundRoute route;
    auto transport = ConnectOutbound(server.address(), config, Options(), &route);
    REQUIRE(transport.ok());
    REQUIRE(route.notice.has_value());
    CHECK(route.notice->code == ErrorCode::kPacUnavailable);
    CHECK(route.notice->message.find(std::to_string(dead_port)) != std::string::npos);
    CHECK(route.notice->message.find("connected directly instead") != std::string::npos);
    CHECK(log.Text().find("policy: a failed PAC falls back to a direct connection") !=
          std::string::npos);
    ExpectTlsRoundTrip(std::move(transport).value());
  }
  SECTION("policy: fail closed") {
    OutboundOptions options = Options();
    options.pac_failure_goes_direct = false;
    auto transport = ConnectOutbound(server.address(), config, options);
    REQUIRE_FALSE(transport.ok());
    CHECK(transport.error().code == ErrorCode::kPacUnavailable);
    CHECK(server.handshakes() == 0);
  }
}

TEST_CASE("Automatic: detection that hangs times out", "[proxy][auto][pac]") {
  // A PAC server that accepts and never answers: libproxy's download hangs.
  auto black_hole = std::make_unique<testing::LoopbackServer>([](int fd) {
    char buffer[1024];
    while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
    }
  });
  ScopedEnv env({{"https_proxy",
                  "pac+http://127.0.0.1:" + std::to_string(black_hole->port()) + "/proxy.pac"}});
  const auto start = std::chrono::steady_clock::now();
  auto detection = DetectProxies(HostPort{"127.0.0.1", 443}, 300);
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(detection.ok());
  CHECK(detection.error().code == ErrorCode::kProxyDetectionTimedOut);
  CHECK(waited < std::chrono::seconds(3));
  black_hole->Stop();  // Ends libproxy's download; the worker finishes.
  CHECK(WaitForProxyDetectionIdle(kWaitMs));
}

TEST_CASE("Cancel ends an attempt stuck at a proxy that never answers", "[proxy]") {
  testing::LoopbackServer silent([](int fd) {
    char buffer[1024];
    while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
    }
  });
  std::atomic<bool> cancel{false};
  OutboundOptions options = Options(30'000);
  options.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  auto transport =
      ConnectOutbound(HostPort{"127.0.0.1", 9}, Manual(ProxyType::kHttp, silent.port()), options);
  const auto waited = std::chrono::steady_clock::now() - start;
  canceller.join();
  REQUIRE_FALSE(transport.ok());
  CHECK(transport.error().code == ErrorCode::kCancelled);
  CHECK(waited < std::chrono::seconds(5));
}

TEST_CASE("A proxy that never answers CONNECT times out", "[proxy]") {
  testing::LoopbackServer silent([](int fd) {
    char buffer[1024];
    while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
    }
  });
  auto transport = ConnectOutbound(HostPort{"127.0.0.1", 9},
                                   Manual(ProxyType::kHttp, silent.port()), Options(500));
  REQUIRE_FALSE(transport.ok());
  CHECK(transport.error().code == ErrorCode::kConnectionTimedOut);
  CHECK(transport.error().message.find("did not open a tunnel") != std::string::npos);
}

TEST_CASE("Cancel stops a connection attempt", "[proxy]") {
  testing::SquidProxy squid;
  std::atomic<bool> cancel{true};
  OutboundOptions options = Options();
  options.cancel = &cancel;
  auto transport =
      ConnectOutbound(HostPort{"127.0.0.1", 9}, Manual(ProxyType::kHttp, squid.port()), options);
  REQUIRE_FALSE(transport.ok());
  CHECK(transport.error().code == ErrorCode::kCancelled);
}

}  // namespace lifeline
