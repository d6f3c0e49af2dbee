// RunDoctor against real servers on loopback: squid with a Basic login, a TLS server
// standing in for the relay (its key is the pin), closed ports, an unreachable PAC.
#include "app/core/doctor.h"

#include <stdlib.h>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "net/proxy/proxy_detection.h"
#include "net/tcp.h"
#include "net/tls/device_identity.h"
#include "net/tls/tls_transport.h"
#include "tests/support/proxy_fixtures.h"
#include "tests/support/subprocess.h"

namespace lifeline {
namespace {

// Accepts TLS connections with a fixed identity (the "relay key"), then drops them.
class TlsKeyServer {
 public:
  TlsKeyServer() {
    auto identity = DeviceIdentity::CreateEphemeral();
    REQUIRE(identity.ok());
    identity_ = std::make_unique<DeviceIdentity>(std::move(identity).value());
    auto listener = TcpListener::Listen(HostPort{"127.0.0.1", 0});
    REQUIRE(listener.ok());
    listener_ = std::move(listener).value();
    thread_ = std::thread([this] {
      while (true) {
        auto accepted = listener_->Accept(-1);
        if (!accepted.ok())
          return;
        auto tls = TlsHandshake(std::move(accepted).value(), TlsRole::kServer, *identity_, 10'000);
        (void)tls;
      }
    });
  }
  ~TlsKeyServer() {
    listener_->Close();
    thread_.join();
  }
  HostPort address() const { return listener_->local_address(); }
  const std::string& pin() const { return identity_->fingerprint(); }

 private:
  std::unique_ptr<DeviceIdentity> identity_;
  std::unique_ptr<TcpListener> listener_;
  std::thread thread_;
};

const DoctorRow* FindRow(const std::vector<DoctorRow>& rows,
                         const std::string& path_prefix,
                         const std::string& target) {
  for (const DoctorRow& row : rows) {
    if (row.path.rfind(path_prefix, 0) == 0 && row.target == target)
      return &row;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("Doctor tries direct, the configured proxy and the fallback port", "[doctor][squid]") {
  REQUIRE(WaitForProxyDetectionIdle(10'000));
  TlsKeyServer relay;
  testing::SquidProxy squid(testing::SquidAuth::kBasic);
  const uint16_t closed_port = static_cast<uint16_t>(testing::FreeLoopbackPort());

  DoctorOptions options;
  options.relay = relay.address();
  options.fallback_port = closed_port;
  options.relay_pin = relay.pin();
  options.proxy.mode = ProxyMode::kManual;
  options.proxy.host = "127.0.0.1";
  options.proxy.port = static_cast<uint16_t>(squid.port());
  options.proxy.auth = true;
  options.proxy.user = testing::kProxyUser;
  options.proxy.password = testing::kProxyPassword;
  options.timeout_ms = 5000;

  const std::vector<DoctorRow> rows = RunDoctor(options);
  const std::string relay_target = relay.address().ToString();
  const std::string fallback_target = "127.0.0.1:" + std::to_string(closed_port);

  const DoctorRow* detection = FindRow(rows, "detection", "");
  REQUIRE(detection != nullptr);

  const DoctorRow* direct = FindRow(rows, "direct", relay_target);
  REQUIRE(direct != nullptr);
  CHECK(direct->ok);
  CHECK(direct->detail.find("relay key matches the pin") != std::string::npos);

  const DoctorRow* proxied =
      FindRow(rows, "configured: HTTP proxy " + squid.address(), relay_target);
  REQUIRE(proxied != nullptr);
  CHECK(proxied->ok);
  CHECK(proxied->http_connect_status == 200);
  CHECK(proxied->detail.find("CONNECT 200") != std::string::npos);

  const DoctorRow* direct_fallback = FindRow(rows, "direct", fallback_target);
  REQUIRE(direct_fallback != nullptr);
  CHECK_FALSE(direct_fallback->ok);
  CHECK(direct_fallback->code == ErrorCode::kConnectionRefused);

  const DoctorRow* proxied_fallback = FindRow(rows, "configured", fallback_target);
  REQUIRE(proxied_fallback != nullptr);
  CHECK_FALSE(proxied_fallback->ok);
  CHECK(proxied_fallback->code == ErrorCode::kProxyTunnelRefused);
  CHECK(proxied_fallback->http_connect_status == 503);

  for (const DoctorRow& row : rows)
    CHECK(row.detail.find(testing::kProxyPassword) == std::string::npos);
}

TEST_CASE("Doctor reports a wrong relay key and a wrong proxy password", "[doctor][squid]") {
  REQUIRE(WaitForProxyDetectionIdle(10'000));
  TlsKeyServer relay;
  testing::SquidProxy squid(testing::SquidAuth::kBasic);
  DoctorOptions options;
  options.relay = relay.address();
  options.fallback = relay.address();  // No second target.
  options.relay_pin = std::string(64, 'a');
  options.detect = false;
  options.proxy.mode = ProxyMode::kManual;
  options.proxy.host = "127.0.0.1";
  options.proxy.port = static_cast<uint16_t>(squid.port());
  options.proxy.auth = true;
  options.proxy.user = testing::kProxyUser;
  options.proxy.password = "not-the-password";

  const std::vector<DoctorRow> rows = RunDoctor(options);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].path == "direct");
  CHECK(rows[0].code == ErrorCode::kRelayCertificateInvalid);
  CHECK(rows[1].code == ErrorCode::kProxyAuthFailed);
  CHECK(rows[1].http_connect_status == 407);
  CHECK(rows[1].detail.find("\"alice\"") != std::string::npos);
  CHECK(rows[1].detail.find("not-the-password") == std::string::npos);
}

TEST_CASE("Doctor names a PAC that cannot be loaded", "[doctor][pac]") {
  REQUIRE(WaitForProxyDetectionIdle(10'000));
  const std::string dead_pac =
      "pac+http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) + "/proxy.pac";
  const char* saved = getenv("https_proxy");
  const std::string saved_value = saved ? saved : "";
  setenv("https_proxy", dead_pac.c_str(), 1);
  DoctorOptions options;
  const std::vector<DoctorRow> rows = RunDoctor(options);
  REQUIRE(WaitForProxyDetectionIdle(10'000));
  if (saved)
    setenv("https_proxy", saved_value.c_str(), 1);
  else
    unsetenv("https_proxy");
  REQUIRE(rows.size() == 1);
  CHECK_FALSE(rows[0].ok);
  CHECK(rows[0].code == ErrorCode::kPacUnavailable);
  CHECK(rows[0].detail.find("connects directly instead (policy)") != std::string::npos);
}

TEST_CASE("Doctor reports an invalid proxy setting by field", "[doctor]") {
  DoctorOptions options;
  options.proxy.mode = ProxyMode::kManual;
  options.proxy.host = "127.0.0.1";
  const std::vector<DoctorRow> rows = RunDoctor(options);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].code == ErrorCode::kProxyConfigInvalid);
  CHECK(rows[0].detail.rfind("proxy.port:", 0) == 0);
}

}  // namespace lifeline
